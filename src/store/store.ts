/**
 * The durable store: one SQLite file per workspace state directory (WAL; every commit fsynced off
 * the event loop by wal-sync.ts, and a write that a response acknowledges has reached the disk).
 * Documents are kept as JSON in the API's own shape; versions come from one persisted counter,
 * so every specVersion and statusVersion is larger than any handed out before, across restarts
 * too.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ApiError } from '../domain/errors.js';
import { MIGRATIONS } from './migrations.js';
import { ExecutionsTable } from './executions-table.js';
import { OutboxTable } from './outbox.js';
import { RunsTable } from './runs.js';
import { ServicesTable } from './services-table.js';
import { TasksTable } from './tasks-table.js';
import { WalSync } from './wal-sync.js';

export type { StepProcessRecords, StoredExecution } from './executions-table.js';
export type { StoredService } from './services-table.js';
export type { StoredTask } from './tasks-table.js';

/** What a transaction changes, by kind of row: a document (service, task, a new execution) or a status. */
export type TouchedKind = 'service' | 'service-status' | 'task' | 'execution' | 'execution-status';
export type Touched = ReadonlyMap<TouchedKind, ReadonlySet<string>>;

/** The disk refused a write: full, failing, or read-only since. */
function isStorageFailure(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM)/.test(code);
}

function storageFailure(error: unknown, stateDir: string): ApiError {
  const code = (error as { code?: string }).code ?? 'unknown';
  if (code === 'SQLITE_FULL') {
    return new ApiError('resource_exhausted', `The disk of the state directory ${stateDir} is full: the change was not saved; free some space and try again`);
  }
  return new ApiError('unavailable', `Cannot save to the state directory ${stateDir} (${code}: ${(error as Error).message}): the change was not saved`);
}

export class Store {
  readonly path: string;
  private readonly db: Database.Database;
  private version: bigint;
  /** Resolved once the transaction of the current tick is committed. */
  private commitWaiters: Array<{ resolve: () => void; reject: (error: ApiError) => void }> = [];
  /** What the open transaction changed, by kind: what to set right in memory if it is refused. */
  private touched = new Map<TouchedKind, Set<string>>();
  private readonly rollbackListeners: Array<(touched: Touched) => void> = [];
  private readonly statements;
  /** The runs whose logs are served, with their secrets (see runs.ts). */
  readonly runs: RunsTable;
  /** Runner mode: the status reports not yet acknowledged upstream (see outbox.ts). */
  readonly outbox: OutboxTable;
  /** Services (see services-table.ts). */
  readonly services: ServicesTable;
  /** Tasks (see tasks-table.ts). */
  readonly tasks: TasksTable;
  /** Task executions (see executions-table.ts). */
  readonly executions: ExecutionsTable;
  /** Fsyncs the WAL after each commit, on libuv's threadpool. */
  private readonly walSync: WalSync;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.path = path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Commits write the WAL; wal-sync.ts fsyncs it off the event loop.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // The store holds every spec (and commands can carry secrets): its owner's only.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    this.migrate();
    this.statements = {
      getMeta: this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      seqOf: {
        services: this.db.prepare<[string], { seq: number }>('SELECT seq FROM services WHERE id = ?'),
        tasks: this.db.prepare<[string], { seq: number }>('SELECT seq FROM tasks WHERE id = ?'),
        task_executions: this.db.prepare<[string], { seq: number }>('SELECT seq FROM task_executions WHERE id = ?'),
      },
    };
    this.version = BigInt(this.statements.getMeta.get('version')?.value ?? '0');
    this.runs = new RunsTable(this.db, (apply) => this.write(apply));
    this.outbox = new OutboxTable(this.db, (apply) => this.write(apply));
    this.services = new ServicesTable(this.db, (apply, touch) => this.write(apply, touch));
    this.tasks = new TasksTable(this.db, (apply, touch) => this.write(apply, touch));
    this.executions = new ExecutionsTable(this.db, (apply, touch) => this.write(apply, touch));
    this.walSync = new WalSync(`${path}-wal`, (error) =>
      storageFailure({ code: error.code === 'ENOSPC' ? 'SQLITE_FULL' : (error.code ?? 'EIO'), message: error.message }, dirname(path)),
    );
  }

  /** Every pending migration in one transaction: one fsync for a new store, not one per migration. */
  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current >= MIGRATIONS.length) return;
    this.db.transaction(() => {
      for (let index = current; index < MIGRATIONS.length; index++) this.db.exec(MIGRATIONS[index]!);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    })();
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

  /**
   * A row's position in creation order (a row inserted in this tick's transaction has one at
   * once); rows are never renumbered, and a new row comes after every row there ever was.
   */
  seqOf(table: 'services' | 'tasks' | 'task_executions', id: string): number {
    if (table === 'task_executions') this.executions.settle(id);
    const row = this.statements.seqOf[table].get(id);
    if (row === undefined) throw new Error(`No ${table} row "${id}" in the store`);
    return row.seq;
  }

  /**
   * Group commit: every write of one event-loop tick goes into one transaction, committed right
   * after the tick and then fsynced off the event loop (wal-sync.ts). A caller that acknowledges a
   * write awaits `committed()` first, so what a response acknowledges is on disk; a hundred
   * services starting at once cost one fsync, not a few hundred. When the disk refuses (full, or
   * failing), the whole transaction is rolled back, everyone waiting on it gets the error at once,
   * and the listeners of `onRollback` are told what it had changed, so that memory does not keep
   * what the disk refused.
   */
  private write(apply: () => void, touch?: readonly [TouchedKind, string]): void {
    if (!this.db.inTransaction) {
      this.db.exec('BEGIN IMMEDIATE');
      setImmediate(() => this.commit());
    }
    if (touch !== undefined) {
      const ids = this.touched.get(touch[0]) ?? new Set<string>();
      ids.add(touch[1]);
      this.touched.set(touch[0], ids);
    }
    try {
      apply();
    } catch (error) {
      if (!isStorageFailure(error)) throw error;
      throw this.fail(error);
    }
  }

  private commit(): void {
    if (this.db.open && this.db.inTransaction) {
      try {
        this.executions.flush();
        this.statements.setMeta.run('version', this.version.toString());
        this.db.exec('COMMIT');
      } catch (error) {
        this.fail(error);
        return;
      }
      const synced = this.walSync.committed();
      for (const waiter of this.commitWaiters.splice(0)) synced.then(waiter.resolve, waiter.reject);
    }
    this.touched = new Map();
    for (const waiter of this.commitWaiters.splice(0)) waiter.resolve();
  }

  /** Rolls the refused transaction back; its waiters get the error, the listeners what it changed. */
  private fail(error: unknown): ApiError {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // SQLite already rolled it back
    }
    this.executions.discard();
    const failure = storageFailure(error, dirname(this.path));
    const touched = this.touched;
    this.touched = new Map();
    for (const waiter of this.commitWaiters.splice(0)) waiter.reject(failure);
    for (const listener of this.rollbackListeners) listener(touched);
    return failure;
  }

  /** Told what a refused transaction had changed (its writes are undone on disk, not in memory). */
  onRollback(listener: (touched: Touched) => void): void {
    this.rollbackListeners.push(listener);
  }

  /** Resolves once every write made so far is committed to disk; rejects when the disk refused it. */
  committed(): Promise<void> {
    if (!this.db.inTransaction) return this.walSync.settled();
    return new Promise((resolve, reject) => this.commitWaiters.push({ resolve, reject }));
  }

  close(): void {
    this.commit();
    // Closing checkpoints the WAL into the database file, fsynced.
    this.db.close();
    this.walSync.close();
  }
}
