/**
 * Fault injection for crash tests: `TEND_FAULT=<point>` makes the daemon kill itself (SIGKILL, as
 * a crash would) when it reaches that point. Points:
 * - `after-spawn`: a service's start command was spawned, its record not yet stored;
 * - `mid-stop`: a service's stop has begun (signals sent), before it ends;
 * - `mid-reload`: an automations file is half applied (services done, tasks not).
 * And one that does not kill: `proc-emfile:<file>` makes every read of /proc fail, as it does when
 * the daemon has run out of file descriptors, while `<file>` exists.
 */
import { existsSync } from 'node:fs';

export type FaultPoint = 'after-spawn' | 'mid-stop' | 'mid-reload';

export function faultPoint(point: FaultPoint): void {
  if (process.env.TEND_FAULT === point) process.kill(process.pid, 'SIGKILL');
}

/** Throws EMFILE while the `proc-emfile` fault is injected. */
export function procFault(path: string): void {
  const fault = process.env.TEND_FAULT;
  if (fault === undefined || !fault.startsWith('proc-emfile:') || !existsSync(fault.slice('proc-emfile:'.length))) return;
  const error = new Error(`EMFILE: too many open files, open '${path}'`) as NodeJS.ErrnoException;
  error.code = 'EMFILE';
  throw error;
}
