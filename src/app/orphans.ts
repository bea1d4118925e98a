/**
 * What a daemon that died (`kill -9`) left running: the processes that carry the instance marker
 * of one of this state directory's daemons (their ids are kept in the store). With no daemon to
 * adopt them, `tend down` stops them and `tend status` names them, so no port stays held.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { StateLayout } from '../domain/state-layout.js';
import { findMarkedProcesses, isAlive, sendSignal, type MarkedProcess } from '../runtime/machine/proc.js';

const POLL_MS = 20;

function instanceIds(stateDir: string): string[] {
  const path = new StateLayout(stateDir).store;
  if (!existsSync(path)) return [];
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 1000 });
    const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'instance_ids'").get();
    return row === undefined ? [] : (JSON.parse(row.value) as string[]);
  } catch {
    return [];
  } finally {
    db?.close();
  }
}

/** The live processes of this state directory's previous daemons. */
export function findOrphans(stateDir: string): MarkedProcess[] {
  const instances = new Set(instanceIds(stateDir));
  if (instances.size === 0) return [];
  return findMarkedProcesses().filter((process) => process.instance !== null && instances.has(process.instance));
}

/** SIGTERM to every orphan, SIGKILL to those still alive after `timeoutMs`; resolves once all are gone. */
export async function stopOrphans(orphans: readonly MarkedProcess[], timeoutMs: number): Promise<void> {
  for (const orphan of orphans) if (isAlive(orphan)) sendSignal(orphan.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  let alive = orphans.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    alive = alive.filter(isAlive);
  }
  for (const orphan of alive) sendSignal(orphan.pid, 'SIGKILL');
  while (alive.length > 0) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    alive = alive.filter(isAlive);
  }
}

/** `3 processes (pid 12, 13, 14)`, for a person. */
export function describeOrphans(orphans: readonly { pid: number }[]): string {
  const pids = orphans.map((orphan) => orphan.pid);
  return `${pids.length} process${pids.length === 1 ? '' : 'es'} (pid ${pids.slice(0, 10).join(', ')}${pids.length > 10 ? ', …' : ''})`;
}
