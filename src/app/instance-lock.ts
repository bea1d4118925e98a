/**
 * One daemon per state directory: `<state-dir>/daemon.lock` is created exclusively and holds the
 * owner's pid and start time. A lock whose owner is gone (a crash, `kill -9`, or a reused pid with
 * another start time) is stale and taken over; a live owner makes the new daemon refuse to start.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { stateFile } from './state-dir.js';
import { readProcStat } from '../runtime/machine/proc.js';

export class DaemonRunningError extends Error {}

interface LockOwner {
  pid: number;
  startTime: string;
}

function owner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

function ownerAlive(lock: LockOwner): boolean {
  return readProcStat(lock.pid)?.startTime === lock.startTime;
}

/** Takes the lock or throws DaemonRunningError naming the running daemon; returns the release. */
export function lockStateDir(stateDir: string, describe: (pid: number) => string): () => void {
  const path = stateFile.lock(stateDir);
  const me: LockOwner = { pid: process.pid, startTime: readProcStat(process.pid)?.startTime ?? '' };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = owner(path);
      if (current !== undefined && ownerAlive(current)) {
        throw new DaemonRunningError(`Another tend daemon is running on state directory ${stateDir}: ${describe(current.pid)}`);
      }
      // Stale: its owner is gone. Another starter may remove it at the same time; O_EXCL decides.
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    return () => {
      const current = owner(path);
      if (current?.pid === me.pid && current.startTime === me.startTime) rmSync(path, { force: true });
    };
  }
  throw new DaemonRunningError(`Cannot lock state directory ${stateDir}: another daemon keeps taking it`);
}
