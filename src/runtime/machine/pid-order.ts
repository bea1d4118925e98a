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
 * every fork and thread of the machine) and the tasks alive (/proc/loadavg), read before the
 * leader was forked, tell: each fork moves allocation one pid on, and each pid in use that it
 * passes one more; in its first round those are pids in use before (a task's own, its process
 * group's or its session's: three for each task alive then, at most). Fewer forks since than the
 * cycle's pids less those, and they cannot have gone round. Where anything cannot be told (no
 * such files, a /proc of another pid namespace than ours), every pid may be a session's.
 */
import { readlinkSync } from 'node:fs';
import { procRead, readProcFile } from './proc-read.js';

/** A session's first process as pid allocation saw it. */
export interface Birth {
  readonly pid: number;
  /** The machine's fork count read before it was forked (`forkCount()`). */
  readonly forksBefore: number;
  /** The tasks alive then (threads too): their pids, groups and sessions are what allocation skips. */
  readonly tasksBefore: number;
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

let recent: { at: number; count: { forks: number; tasks: number } | null } | undefined;

/**
 * The fork count and the tasks alive, as a birth records them, read at most `maxAgeMs` ago: an
 * earlier reading holds as well (allocation has moved on from there; what was handed out since
 * lies behind it). A burst of spawns shares a reading; a chain of task steps, a few milliseconds
 * apart, reads afresh for each, so that a step's end can tell that nothing was forked since its
 * command (`MachineSession.killLeftovers`).
 */
export function recentBirthCounts(now: number, maxAgeMs = 2): { forks: number; tasks: number } | null {
  if (recent === undefined || now - recent.at > maxAgeMs || now < recent.at) {
    const forks = forkCount();
    const tasks = tasksAlive();
    recent = { at: now, count: forks === null || tasks === null ? null : { forks, tasks } };
  }
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

/** Where pid allocation stands: what a scan reads once, after listing /proc. */
export interface Allocation {
  /** The machine's fork count (`forkCount()`). */
  readonly forks: number;
  /** The last pid handed out. */
  readonly last: number;
  /** The tasks alive (threads too, zombies too: /proc/loadavg). */
  readonly tasks: number;
  readonly pidMax: number;
}

/** Tasks alive on the machine: the total of /proc/loadavg's `running/total`. */
function tasksAlive(): number | null {
  try {
    const text = procRead('/proc/loadavg', () => readProcFile('/proc/loadavg').toString('latin1'));
    const total = text === null ? null : /^\S+ \S+ \S+ \d+\/(\d+) /.exec(text);
    return total === null ? null : Number(total[1]);
  } catch {
    return null;
  }
}

/** Where pid allocation stands now (call it after listing /proc), or null when /proc cannot tell. */
export function allocationNow(): Allocation | null {
  if (!procIsOurs()) return null;
  const forks = forkCount();
  cachedPidMax ??= readNumber('/proc/sys/kernel/pid_max');
  const pidMax = cachedPidMax;
  const last = readNumber('/proc/sys/kernel/ns_last_pid');
  const tasks = tasksAlive();
  if (forks === null || pidMax === null || last === null || tasks === null) return null;
  return { forks, last, tasks, pidMax };
}

/**
 * A test of the pids that may have been handed out at or after the leader of each of `births`,
 * or null when every pid may be a session's. `now` is read after listing /proc (never an older one).
 */
export function bornAfter(births: readonly Birth[], now: Allocation | null = allocationNow()): ((pid: number) => boolean) | null {
  if (births.length === 0 || now === null) return null;
  return pidsSince(births, { forksNow: now.forks, last: now.last, pidMax: now.pidMax });
}

/**
 * Whether `pid`, listed when allocation stood at `then`, can only be the same process now: for
 * the pid to be handed out again, allocation must move from the last pid then all the way to it
 * (round the cycle). Each fork moves it one pid, and each pid in use ahead of it one more: before
 * it has come round, those are pids in use then (what was handed out since lies behind it), three
 * for each task alive then at most. So fewer forks since than that distance less those pids, and
 * it has not come round.
 */
export function cannotHaveBeenReused(pid: number, then: Allocation, now: Allocation): boolean {
  if (then.pidMax !== now.pidMax || now.forks < then.forks) return false;
  const distance = pid > then.last ? pid - then.last : now.pidMax - then.last + (pid - RESERVED_PIDS);
  return now.forks - then.forks + 3 * then.tasks < distance;
}

/** The pure rule of `bornAfter`, given what /proc said. */
export function pidsSince(
  births: readonly Birth[],
  now: { readonly forksNow: number; readonly last: number; readonly pidMax: number },
): ((pid: number) => boolean) | null {
  const { forksNow, last, pidMax } = now;
  // Pids went round (or may have): forks since, and the pids in use then that allocation skips.
  if (births.some((birth) => forksNow - birth.forksBefore + 3 * birth.tasksBefore >= pidMax - RESERVED_PIDS)) return null;
  /** How far back from the last pid, in the cycle: 0 is the last one handed out. */
  const back = (pid: number): number => (((last - pid) % pidMax) + pidMax) % pidMax;
  const widest = Math.max(...births.map((birth) => back(birth.pid)));
  return (pid) => pid <= pidMax && back(pid) <= widest;
}
