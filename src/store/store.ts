/**
 * The durable store: one SQLite file per workspace state directory (WAL, synchronous=FULL, so a
 * write that a response acknowledges has reached the disk). Documents are kept as JSON in the
 * API's own shape; versions come from one persisted counter, so every specVersion and
 * statusVersion is larger than any handed out before, across restarts too.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServiceRunRecord, SessionRecord } from '../domain/session-record.js';
import type {
  Service,
  ServiceMetadata,
  ServiceSpec,
  ServiceStatus,
  Task,
  TaskExecution,
  TaskMetadata,
  TaskSpec,
} from '../domain/schema.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
   CREATE TABLE services (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     reference TEXT NOT NULL UNIQUE,
     metadata TEXT NOT NULL,
     spec TEXT NOT NULL,
     status TEXT NOT NULL,
     process TEXT
   ) STRICT;`,
  `CREATE TABLE tasks (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     reference TEXT NOT NULL UNIQUE,
     depends_on TEXT NOT NULL,
     metadata TEXT NOT NULL,
     spec TEXT NOT NULL
   ) STRICT;
   CREATE TABLE task_executions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     finished INTEGER NOT NULL,
     metadata TEXT NOT NULL,
     spec TEXT NOT NULL,
     status TEXT NOT NULL,
     processes TEXT NOT NULL
   ) STRICT;`,
  // Status reports waiting for the control plane: one row per resource, only its latest status.
  `CREATE TABLE outbox (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     version INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (kind, id)
   ) STRICT;`,
  // The last report the control plane took of each resource (what its next report must clear).
  `CREATE TABLE delivered_reports (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (kind, id)
   ) STRICT;`,
];

/** What the outbox holds: the latest status of one resource, not yet acknowledged upstream. */
export interface OutboxEntry {
  readonly kind: 'service' | 'execution';
  readonly id: string;
  readonly version: bigint;
  /** The status as JSON text: parsed only when it is sent (most rows of a pass wait). */
  readonly body: string;
}

export interface StoredService {
  /** The row's position in creation order (pages are keyed by it). */
  readonly seq: number;
  readonly service: Service;
  /** Its last run, so a restarted daemon can find it (and its log and outputs). */
  readonly run: ServiceRunRecord | null;
}

/** The running processes of an execution's steps, by step id. */
export type StepProcessRecords = Record<string, SessionRecord>;

/**
 * A record as an earlier tend wrote it (`{session, identity, logPath, container?}`, the session
 * string being its marker) or as this one does.
 */
function parseRunRecord(text: string | null): ServiceRunRecord | null {
  if (text === null) return null;
  const parsed = JSON.parse(text) as Partial<ServiceRunRecord> & { session?: unknown; identity?: SessionRecord['identity'] };
  if (typeof parsed.runId === 'string') return { runId: parsed.runId, session: (parsed.session as SessionRecord | null) ?? null };
  const legacy = parsed as unknown as { session: string; identity: SessionRecord['identity']; logPath: string; container?: string };
  return { runId: legacy.session, session: { runId: legacy.session, identity: legacy.identity, logPath: legacy.logPath, ...(legacy.container !== undefined ? { container: legacy.container } : {}) } };
}

function parseStepRecords(text: string): StepProcessRecords {
  const parsed = JSON.parse(text) as Record<string, SessionRecord & { session?: string }>;
  return Object.fromEntries(
    Object.entries(parsed).map(([step, record]) => [step, { ...record, runId: record.runId ?? record.session ?? '' }]),
  );
}

export interface StoredTask {
  /** The row's position in creation order (pages are keyed by it). */
  readonly seq: number;
  readonly task: Task;
}

export interface StoredExecution {
  /** The row's position in creation order, when loaded (pages are keyed by it). */
  readonly seq?: number;
  readonly execution: TaskExecution;
  /** Extra facts tend keeps about the main task, not part of the wire shape. */
  readonly taskReference: string;
  readonly processes: StepProcessRecords;
}

interface ServiceRow {
  seq: number;
  id: string;
  metadata: string;
  spec: string;
  status: string;
  process: string | null;
}

export class Store {
  readonly path: string;
  private readonly db: Database.Database;
  private version: bigint;
  /** Resolved once the transaction of the current tick is committed. */
  private commitWaiters: Array<() => void> = [];
  private readonly statements;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.path = path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.statements = {
      getMeta: this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insertService: this.db.prepare<[string, string, string, string, string]>(
        'INSERT INTO services (id, reference, metadata, spec, status) VALUES (?, ?, ?, ?, ?)',
      ),
      updateServiceDoc: this.db.prepare<[string, string, string, string]>(
        'UPDATE services SET reference = ?, metadata = ?, spec = ? WHERE id = ?',
      ),
      updateServiceStatus: this.db.prepare<[string, string | null, string]>(
        'UPDATE services SET status = ?, process = ? WHERE id = ?',
      ),
      deleteService: this.db.prepare<[string]>('DELETE FROM services WHERE id = ?'),
      allServices: this.db.prepare<[], ServiceRow>(
        'SELECT seq, id, metadata, spec, status, process FROM services ORDER BY seq',
      ),
      insertTask: this.db.prepare<[string, string, string, string, string]>(
        'INSERT INTO tasks (id, reference, depends_on, metadata, spec) VALUES (?, ?, ?, ?, ?)',
      ),
      updateTask: this.db.prepare<[string, string, string, string, string]>(
        'UPDATE tasks SET reference = ?, depends_on = ?, metadata = ?, spec = ? WHERE id = ?',
      ),
      deleteTask: this.db.prepare<[string]>('DELETE FROM tasks WHERE id = ?'),
      allTasks: this.db.prepare<[], { seq: number; id: string; depends_on: string; metadata: string; spec: string }>(
        'SELECT seq, id, depends_on, metadata, spec FROM tasks ORDER BY seq',
      ),
      insertExecution: this.db.prepare<[string, number, string, string, string, string]>(
        'INSERT INTO task_executions (id, finished, metadata, spec, status, processes) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      updateExecution: this.db.prepare<[number, string, string, string, string, string]>(
        'UPDATE task_executions SET finished = ?, metadata = ?, spec = ?, status = ?, processes = ? WHERE id = ?',
      ),
      allExecutions: this.db.prepare<[], { seq: number; id: string; metadata: string; spec: string; status: string; processes: string }>(
        'SELECT seq, id, metadata, spec, status, processes FROM task_executions ORDER BY seq',
      ),
      seqOf: {
        services: this.db.prepare<[string], { seq: number }>('SELECT seq FROM services WHERE id = ?'),
        tasks: this.db.prepare<[string], { seq: number }>('SELECT seq FROM tasks WHERE id = ?'),
        task_executions: this.db.prepare<[string], { seq: number }>('SELECT seq FROM task_executions WHERE id = ?'),
      },
      oldFinishedExecutions: this.db.prepare<[number], { id: string }>(
        `SELECT id FROM task_executions WHERE finished = 1 AND seq <= (
           SELECT seq FROM task_executions ORDER BY seq DESC LIMIT 1 OFFSET ?
         )`,
      ),
      deleteExecution: this.db.prepare<[string]>('DELETE FROM task_executions WHERE id = ?'),
      // A newer status replaces the queued one; an older one never replaces a newer.
      enqueue: this.db.prepare<[string, string, bigint, string]>(
        `INSERT INTO outbox (kind, id, version, body) VALUES (?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, body = excluded.body
         WHERE excluded.version > outbox.version`,
      ),
      outbox: this.db.prepare<[], { kind: string; id: string; version: bigint; body: string }>(
        'SELECT kind, id, version, body FROM outbox ORDER BY version',
      ).safeIntegers(),
      outboxDepth: this.db.prepare<[], { depth: number }>('SELECT count(*) AS depth FROM outbox'),
      delivered: this.db.prepare<[string, string, bigint]>('DELETE FROM outbox WHERE kind = ? AND id = ? AND version = ?'),
      getDeliveredReport: this.db.prepare<[string, string], { body: string }>('SELECT body FROM delivered_reports WHERE kind = ? AND id = ?'),
      setDeliveredReport: this.db.prepare<[string, string, string]>(
        'INSERT INTO delivered_reports (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body',
      ),
      forgetDeliveredReport: this.db.prepare<[string, string]>('DELETE FROM delivered_reports WHERE kind = ? AND id = ?'),
    };
    this.version = BigInt(this.statements.getMeta.get('version')?.value ?? '0');
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let index = current; index < MIGRATIONS.length; index++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[index]!);
        this.db.pragma(`user_version = ${index + 1}`);
      })();
    }
  }

  /** The environment id: GITPOD_ENVIRONMENT_ID when given, else generated once and kept. */
  environmentId(preferred?: string): string {
    const stored = this.statements.getMeta.get('environment_id')?.value;
    if (preferred !== undefined && preferred !== '' && preferred !== stored) {
      this.writeMeta('environment_id', preferred);
      return preferred;
    }
    if (stored !== undefined) return stored;
    const id = randomUUID();
    this.writeMeta('environment_id', id);
    return id;
  }

  readMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key)?.value;
  }

  writeMeta(key: string, value: string): void {
    this.write(() => this.statements.setMeta.run(key, value));
  }

  /** A fresh version, larger than every one handed out before. Persisted with the write it serves. */
  nextVersion(): string {
    this.version += 1n;
    return this.version.toString();
  }

  /** Queues a status report in the transaction of the status change it reports. */
  enqueueReport(kind: OutboxEntry['kind'], id: string, version: string, body: unknown): void {
    this.write(() => this.statements.enqueue.run(kind, id, BigInt(version), JSON.stringify(body)));
  }

  /** Every queued report, oldest version first. */
  outbox(): OutboxEntry[] {
    return this.statements.outbox.all().map((row) => ({
      kind: row.kind as OutboxEntry['kind'],
      id: row.id,
      version: row.version,
      body: row.body,
    }));
  }

  outboxDepth(): number {
    return this.statements.outboxDepth.get()?.depth ?? 0;
  }

  /**
   * Removes a delivered report, unless a newer status of the resource was queued meanwhile. `sent`:
   * what the control plane took (kept as the resource's last delivered report; null forgets it).
   */
  reportDelivered(entry: Pick<OutboxEntry, 'kind' | 'id' | 'version'>, sent?: unknown): void {
    this.write(() => {
      this.statements.delivered.run(entry.kind, entry.id, entry.version);
      if (sent === null) this.statements.forgetDeliveredReport.run(entry.kind, entry.id);
      else if (sent !== undefined) this.statements.setDeliveredReport.run(entry.kind, entry.id, JSON.stringify(sent));
    });
  }

  /** The last report of a resource that the control plane took, if any. */
  deliveredReport(kind: OutboxEntry['kind'], id: string): unknown {
    const row = this.statements.getDeliveredReport.get(kind, id);
    return row === undefined ? undefined : JSON.parse(row.body);
  }

  loadServices(): StoredService[] {
    return this.statements.allServices.all().map((row) => ({
      seq: row.seq,
      service: {
        id: row.id,
        environmentId: '',
        metadata: JSON.parse(row.metadata) as ServiceMetadata,
        spec: JSON.parse(row.spec) as ServiceSpec,
        status: JSON.parse(row.status) as ServiceStatus,
      },
      run: parseRunRecord(row.process),
    }));
  }

  /**
   * Group commit: every write of one event-loop tick goes into one transaction, committed (and
   * fsynced) right after the tick. A caller that acknowledges a write awaits `committed()` first,
   * so what a response acknowledges is on disk; a hundred services starting at once cost one
   * fsync, not a few hundred.
   */
  private write(apply: () => void): void {
    if (!this.db.inTransaction) {
      this.db.exec('BEGIN IMMEDIATE');
      setImmediate(() => this.commit());
    }
    apply();
  }

  private commit(): void {
    if (this.db.open && this.db.inTransaction) {
      this.statements.setMeta.run('version', this.version.toString());
      this.db.exec('COMMIT');
    }
    for (const resolve of this.commitWaiters.splice(0)) resolve();
  }

  /** Resolves once every write made so far is committed to disk. */
  committed(): Promise<void> {
    if (!this.db.inTransaction) return Promise.resolve();
    return new Promise((resolve) => this.commitWaiters.push(resolve));
  }

  insertService(service: Service): void {
    this.write(() => {
      this.statements.insertService.run(
        service.id,
        service.metadata.reference ?? '',
        JSON.stringify(service.metadata),
        JSON.stringify(service.spec),
        JSON.stringify(service.status),
      );
    });
  }

  updateServiceDocument(service: Pick<Service, 'id' | 'metadata' | 'spec'>): void {
    this.write(() => {
      this.statements.updateServiceDoc.run(
        service.metadata.reference ?? '',
        JSON.stringify(service.metadata),
        JSON.stringify(service.spec),
        service.id,
      );
    });
  }

  updateServiceStatus(id: string, status: ServiceStatus, run: ServiceRunRecord | null): void {
    this.write(() => {
      this.statements.updateServiceStatus.run(JSON.stringify(status), run === null ? null : JSON.stringify(run), id);
    });
  }

  deleteService(id: string): void {
    this.write(() => this.statements.deleteService.run(id));
  }

  loadTasks(): StoredTask[] {
    return this.statements.allTasks.all().map((row) => ({
      seq: row.seq,
      task: {
        id: row.id,
        environmentId: '',
        dependsOn: JSON.parse(row.depends_on) as string[],
        metadata: JSON.parse(row.metadata) as TaskMetadata,
        spec: JSON.parse(row.spec) as TaskSpec,
      },
    }));
  }

  /**
   * A row's position in creation order (a row inserted in this tick's transaction has one at
   * once); rows are never renumbered, and a new row comes after every row there ever was.
   */
  seqOf(table: 'services' | 'tasks' | 'task_executions', id: string): number {
    const row = this.statements.seqOf[table].get(id);
    if (row === undefined) throw new Error(`No ${table} row "${id}" in the store`);
    return row.seq;
  }

  insertTask(task: Task): void {
    this.write(() => this.statements.insertTask.run(
      task.id,
      task.metadata.reference ?? '',
      JSON.stringify(task.dependsOn),
      JSON.stringify(task.metadata),
      JSON.stringify(task.spec),
    ));
  }

  updateTask(task: Task): void {
    this.write(() =>
      this.statements.updateTask.run(
        task.metadata.reference ?? '',
        JSON.stringify(task.dependsOn),
        JSON.stringify(task.metadata),
        JSON.stringify(task.spec),
        task.id,
      ),
    );
  }

  deleteTask(id: string): void {
    this.write(() => this.statements.deleteTask.run(id));
  }

  loadExecutions(): StoredExecution[] {
    return this.statements.allExecutions.all().map((row) => {
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

  /** Inserts or updates an execution with the processes of its running steps, in one transaction. */
  saveExecution(stored: StoredExecution, finished: boolean, insert: boolean): void {
    const { execution } = stored;
    const metadata = JSON.stringify({ ...execution.metadata, tendTaskReference: stored.taskReference });
    const args = [
      finished ? 1 : 0,
      metadata,
      JSON.stringify(execution.spec),
      JSON.stringify(execution.status),
      JSON.stringify(stored.processes),
    ] as const;
    this.write(() => {
      if (insert) this.statements.insertExecution.run(execution.id, ...args);
      else this.statements.updateExecution.run(...args, execution.id);
    });
  }

  /** Deletes finished executions older than the newest `keep`; returns their ids. */
  pruneExecutions(keep: number): string[] {
    let ids: string[] = [];
    this.write(() => {
      ids = this.statements.oldFinishedExecutions.all(keep).map((row) => row.id);
      for (const id of ids) this.statements.deleteExecution.run(id);
    });
    return ids;
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    this.commit();
    this.db.close();
  }
}
