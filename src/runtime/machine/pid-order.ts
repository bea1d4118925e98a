/**
 * Which pids can be a session's without reading them: Linux hands out pids in a cycle (each new
 * one after the last, wrapping at `pid_max`), so every descendant of a session has a pid handed
 * out after its leader's, up to the last one handed out. A scan then reads the stat of those
 * processes only, not of every process of the machine: a task step's sweep on a machine with 65
 * processes read 65 stat files (0.64 ms), and on a developer's machine with hundreds of processes
 * (an IDE, its language servers, a browser) it read hundreds.
 *
 * That holds only while pids have not gone round the whole cycle since the leader was forked:
 * after that, a descendant may have any pid. The kernel's fork count (`processes` in /proc/stat,
 * every fork and thread of the machine) read before the leader was forked tells: fewer forks
 * since than pids in the cycle, and they cannot have. Where anything cannot be told (no such
 * files, a /proc of another pid namespace than ours), every pid may be a session's.
 */
import { readlinkSync } from 'node:fs';
import { procRead, readProcFile } from './proc-read.js';

/** A session's first process as pid allocation saw it. */
export interface Birth {
  readonly pid: number;
  /** The machine's fork count read before it was forked (`forkCount()`). */
  readonly forksBefore: number;
}

/** Pids below this are never handed out again after a wrap (the kernel's RESERVED_PIDS). */
const RESERVED_PIDS = 300;

/** The machine's fork count since boot, or null when /proc cannot tell. */
export function forkCount(): number | null {
  try {
    const stat = procRead('/proc/stat', () => readProcFile('/proc/stat').toString('latin1'));
    const line = stat === null ? null : /^processes (\d+)$/m.exec(stat);
    return line === null ? null : Number(line[1]);
  } catch {
    return null;
  }
}

let recent: { at: number; count: number | null } | undefined;

/** A fork count that may be older than now by `maxAgeMs`: an earlier count only makes `bornAfter` more careful. */
export function recentForkCount(now: number, maxAgeMs = 100): number | null {
  if (recent === undefined || now - recent.at > maxAgeMs || now < recent.at) recent = { at: now, count: forkCount() };
  return recent.count;
}

function readNumber(path: string): number | null {
  try {
    const text = procRead(path, () => readProcFile(path).toString('latin1'));
    const value = text === null ? NaN : Number(text.trim());
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

let cachedPidMax: number | null | undefined;
let cachedOurs: boolean | undefined;

/** Whether /proc is of our pid namespace (its pids are the ones `ns_last_pid` speaks of). */
function procIsOurs(): boolean {
  if (cachedOurs === undefined) {
    try {
      cachedOurs = Number(readlinkSync('/proc/self')) === process.pid;
    } catch {
      cachedOurs = false;
    }
  }
  return cachedOurs;
}

/**
 * A test of the pids that may have been handed out at or after the leader of each of `births`
 * (call it after listing /proc: the last pid is read now), or null when every pid may be a
 * session's. `forksNow` is the fork count read now (never an older one).
 */
export function bornAfter(births: readonly Birth[], forksNow: number | null = forkCount()): ((pid: number) => boolean) | null {
  if (births.length === 0 || forksNow === null || !procIsOurs()) return null;
  cachedPidMax ??= readNumber('/proc/sys/kernel/pid_max');
  const pidMax = cachedPidMax;
  const last = readNumber('/proc/sys/kernel/ns_last_pid');
  if (pidMax === null || last === null) return null;
  return pidsSince(births, { forksNow, last, pidMax });
}

/** The pure rule of `bornAfter`, given what /proc said. */
export function pidsSince(
  births: readonly Birth[],
  now: { readonly forksNow: number; readonly last: number; readonly pidMax: number },
): ((pid: number) => boolean) | null {
  const { forksNow, last, pidMax } = now;
  const oldest = Math.min(...births.map((birth) => birth.forksBefore));
  // Pids went round (or may have): each fork takes at most one pid of the cycle.
  if (forksNow - oldest >= pidMax - RESERVED_PIDS) return null;
  /** How far back from the last pid, in the cycle: 0 is the last one handed out. */
  const back = (pid: number): number => (((last - pid) % pidMax) + pidMax) % pidMax;
  const widest = Math.max(...births.map((birth) => back(birth.pid)));
  return (pid) => pid <= pidMax && back(pid) <= widest;
}
