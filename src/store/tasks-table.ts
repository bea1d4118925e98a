/**
 * The tasks of the store: each one's document (metadata, spec, dependsOn) as JSON in the API's
 * own shape, in creation order.
 */
import type Database from 'better-sqlite3';
import type { Task, TaskMetadata, TaskSpec } from '../domain/schema.js';

export interface StoredTask {
  /** The row's position in creation order (pages are keyed by it). */
  readonly seq: number;
  readonly task: Task;
}

interface TaskRow {
  seq: number;
  id: string;
  depends_on: string;
  metadata: string;
  spec: string;
}

/** The store's write: `apply` in the tick's transaction, `touch` the task it changes (for a rollback). */
type Write = (apply: () => void, touch: readonly ['task', string]) => void;

function storedTask(row: TaskRow): StoredTask {
  return {
    seq: row.seq,
    task: {
      id: row.id,
      environmentId: '',
      dependsOn: JSON.parse(row.depends_on) as string[],
      metadata: JSON.parse(row.metadata) as TaskMetadata,
      spec: JSON.parse(row.spec) as TaskSpec,
    },
  };
}

export class TasksTable {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly write: Write,
  ) {
    this.statements = {
      insert: db.prepare<[string, string, string, string, string]>(
        'INSERT INTO tasks (id, reference, depends_on, metadata, spec) VALUES (?, ?, ?, ?, ?)',
      ),
      update: db.prepare<[string, string, string, string, string]>(
        'UPDATE tasks SET reference = ?, depends_on = ?, metadata = ?, spec = ? WHERE id = ?',
      ),
      delete: db.prepare<[string]>('DELETE FROM tasks WHERE id = ?'),
      all: db.prepare<[], TaskRow>('SELECT seq, id, depends_on, metadata, spec FROM tasks ORDER BY seq'),
      one: db.prepare<[string], TaskRow>('SELECT seq, id, depends_on, metadata, spec FROM tasks WHERE id = ?'),
    };
  }

  load(): StoredTask[] {
    return this.statements.all.all().map(storedTask);
  }

  /** One task as the disk has it (after a refused write: what memory goes back to). */
  loadOne(id: string): Task | undefined {
    const row = this.statements.one.get(id);
    return row === undefined ? undefined : storedTask(row).task;
  }

  insert(task: Task): void {
    this.write(
      () =>
        this.statements.insert.run(
          task.id,
          task.metadata.reference ?? '',
          JSON.stringify(task.dependsOn),
          JSON.stringify(task.metadata),
          JSON.stringify(task.spec),
        ),
      ['task', task.id],
    );
  }

  update(task: Task): void {
    this.write(
      () =>
        this.statements.update.run(
          task.metadata.reference ?? '',
          JSON.stringify(task.dependsOn),
          JSON.stringify(task.metadata),
          JSON.stringify(task.spec),
          task.id,
        ),
      ['task', task.id],
    );
  }

  delete(id: string): void {
    this.write(() => this.statements.delete.run(id), ['task', id]);
  }
}
