/**
 * One daemon per state directory, held by the kernel: the daemon keeps an exclusive SQLite lock
 * (an fcntl lock) on `<state-dir>/daemon.lock` for as long as it lives. The kernel releases it when
 * the process ends, however it ends (`kill -9` included, and before it is even reaped), so there is
 * no stale lock to judge and no window in which two starters both win. Who holds it is written
 * beside it (`daemon.owner`) for the message a second daemon gets.
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { StateLayout } from '../domain/state-layout.js';
import { bootId, readProcStat } from '../runtime/machine/proc.js';

const stateFile = {
  lock: (dir: string) => new StateLayout(dir).lock,
  owner: (dir: string) => new StateLayout(dir).lockOwner,
};

export class DaemonRunningError extends Error {}

/** How long a starter waits for a lock someone only peeks at (`isStateDirLocked`). */
const LOCK_WAIT_MS = 500;

export interface LockOwner {
  readonly pid: number;
  readonly startTime: string;
  readonly bootId: string;
}

/** This process's identity (pid, start time, boot id), as /proc tells it. */
export function selfIdentity(): LockOwner {
  return { pid: process.pid, startTime: readProcStat(process.pid)?.startTime ?? '', bootId: bootId() };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function take(path: string, timeoutMs: number): Database.Database | null {
  const db = new Database(path, { timeout: timeoutMs });
  for (const file of [path, `${path}-journal`]) if (existsSync(file)) chmodSync(file, 0o600);
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The file holds nothing worth an fsync: only its lock matters.
    db.pragma('synchronous = OFF');
    // The first write in exclusive mode takes the lock; it is kept until the connection closes.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (since TEXT); COMMIT;');
    for (const file of [path, `${path}-journal`]) if (existsSync(file)) chmodSync(file, 0o600);
    return db;
  } catch (error) {
    db.close();
    if (isBusy(error)) return null;
    throw error;
  }
}

/** Takes the lock or throws DaemonRunningError naming the running daemon; returns the release. */
export function lockStateDir(stateDir: string, describe: (pid: number) => string): () => void {
  const db = take(stateFile.lock(stateDir), LOCK_WAIT_MS);
  if (db === null) {
    const owner = readOwner(stateDir);
    throw new DaemonRunningError(`Another tend daemon is running on state directory ${stateDir}${owner === undefined ? '' : `: ${describe(owner.pid)}`}`);
  }
  const me = selfIdentity();
  writeFileSync(stateFile.owner(stateDir), `${JSON.stringify(me)}\n`, { mode: 0o600 });
  return () => {
    const owner = readOwner(stateDir);
    if (owner?.pid === me.pid && owner.startTime === me.startTime) rmSync(stateFile.owner(stateDir), { force: true });
    db.close();
  };
}

/** True while a daemon holds the state directory (a peek: the lock is let go at once). */
export function isStateDirLocked(stateDir: string): boolean {
  let db: Database.Database | null;
  try {
    db = take(stateFile.lock(stateDir), 0);
  } catch {
    // No lock file can be made (no directory): nobody holds it.
    return false;
  }
  if (db === null) return true;
  db.close();
  return false;
}

export function readOwner(stateDir: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(stateFile.owner(stateDir), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}
