/**
 * The task executions of the store: each with its plan, status and the processes of its running
 * steps. A save is written when the transaction commits, once, in the last state it was saved in
 * during the tick: a fan-out of 200 steps changes its execution hundreds of times a tick, and
 * serialising all of it each time was quadratic in the steps (bench/RESULTS.md, W5). Whatever reads,
 * numbers or deletes executions writes the pending saves first.
 */
import type Database from 'better-sqlite3';
import type { SessionRecord } from '../domain/session-record.js';
import type { TaskExecution } from '../domain/schema.js';
import { parseStepRecords } from './records.js';

/** The running processes of an execution's steps, by step id. */
export type StepProcessRecords = Record<string, SessionRecord>;

export interface StoredExecution {
  /** The row's position in creation order, when loaded (pages are keyed by it). */
  readonly seq?: number;
  readonly execution: TaskExecution;
  /** Extra facts tend keeps about the main task, not part of the wire shape. */
  readonly taskReference: string;
  readonly processes: StepProcessRecords;
}

/** The store's write: `apply` in the tick's transaction, `touch` what it changes (for a rollback). */
type Write = (apply: () => void, touch?: readonly ['execution' | 'execution-status', string]) => void;

export class ExecutionsTable {
  private readonly statements;
  /** Saved in the open transaction, written at its commit. */
  private readonly pending = new Map<string, { stored: StoredExecution; finished: boolean; insert: boolean }>();

  constructor(
    db: Database.Database,
    private readonly write: Write,
  ) {
    this.statements = {
      one: db.prepare<[string], { id: string }>('SELECT id FROM task_executions WHERE id = ?'),
      insert: db.prepare<[string, number, string, string, string, string]>(
        'INSERT INTO task_executions (id, finished, metadata, spec, status, processes) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      update: db.prepare<[number, string, string, string, string, string]>(
        'UPDATE task_executions SET finished = ?, metadata = ?, spec = ?, status = ?, processes = ? WHERE id = ?',
      ),
      all: db.prepare<[], { seq: number; id: string; metadata: string; spec: string; status: string; processes: string }>(
        'SELECT seq, id, metadata, spec, status, processes FROM task_executions ORDER BY seq',
      ),
      oldFinished: db.prepare<[number], { id: string }>(
        `SELECT id FROM task_executions WHERE finished = 1 AND seq <= (
           SELECT seq FROM task_executions ORDER BY seq DESC LIMIT 1 OFFSET ?
         )`,
      ),
      delete: db.prepare<[string]>('DELETE FROM task_executions WHERE id = ?'),
    };
  }

  /** Inserts or updates an execution with the processes of its running steps (at the commit). */
  save(stored: StoredExecution, finished: boolean, insert: boolean): void {
    const id = stored.execution.id;
    const earlier = this.pending.get(id);
    this.pending.set(id, { stored, finished, insert: insert || earlier?.insert === true });
    this.write(() => {}, [insert ? 'execution' : 'execution-status', id]);
  }

  has(id: string): boolean {
    return this.pending.has(id) || this.statements.one.get(id) !== undefined;
  }

  /** Writes a pending save of `id` now (before its row is read by number). */
  settle(id: string): void {
    if (this.pending.has(id)) this.write(() => this.flush());
  }

  load(): StoredExecution[] {
    if (this.pending.size > 0) this.write(() => this.flush());
    return this.statements.all.all().map((row) => {
      const metadata = JSON.parse(row.metadata) as TaskExecution['metadata'] & { tendTaskReference?: string };
      const { tendTaskReference, ...wire } = metadata;
      return {
        seq: row.seq,
        execution: {
          id: row.id,
          metadata: wire,
          spec: JSON.parse(row.spec) as TaskExecution['spec'],
          status: JSON.parse(row.status) as TaskExecution['status'],
        },
        taskReference: tendTaskReference ?? '',
        processes: parseStepRecords(row.processes),
      };
    });
  }

  /** Deletes finished executions older than the newest `keep`; returns their ids. */
  prune(keep: number): string[] {
    let ids: string[] = [];
    this.write(() => {
      this.flush();
      ids = this.statements.oldFinished.all(keep).map((row) => row.id);
      for (const id of ids) this.statements.delete.run(id);
    });
    return ids;
  }

  /** Writes the saves of the open transaction (the store calls it before committing). */
  flush(): void {
    for (const [id, { stored, finished, insert }] of this.pending) {
      const { execution } = stored;
      const args = [
        finished ? 1 : 0,
        JSON.stringify({ ...execution.metadata, tendTaskReference: stored.taskReference }),
        JSON.stringify(execution.spec),
        JSON.stringify(execution.status),
        JSON.stringify(stored.processes),
      ] as const;
      if (insert) this.statements.insert.run(id, ...args);
      else this.statements.update.run(...args, id);
    }
    this.pending.clear();
  }

  /** The transaction was rolled back: its saves are gone with it. */
  discard(): void {
    this.pending.clear();
  }
}
