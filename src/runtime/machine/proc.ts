/**
 * What Linux's /proc says about processes: identity (pid + start time + boot id), liveness
 * (a zombie counts as dead) and membership of a service (its process group, or the marker
 * variable in its environment for descendants that left the group).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ProcError, procRead, readProcFile } from './proc-read.js';

export { ProcError } from './proc-read.js';

export interface ProcStat {
  readonly pid: number;
  /** One letter: R, S, D, Z (zombie), T, X (dead), ... */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly startTime: string;
}

/** Processes carry `TEND_SESSION_ID=<session>` so that escaped descendants are still found. */
export const SESSION_MARKER_VAR = 'TEND_SESSION_ID';
export const INSTANCE_MARKER_VAR = 'TEND_INSTANCE_ID';

let cachedBootId: string | undefined;

export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/** Clock ticks a second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux that Node runs on). */
const CLOCK_TICKS_PER_SECOND = 100;
let cachedBootTimeMs: number | null | undefined;

/** When a process started (ms since the epoch), from its start time in ticks after boot; null if unknown. */
export function processStartedAt(startTime: string): number | null {
  if (cachedBootTimeMs === undefined) {
    let stat = '';
    try {
      stat = procRead('/proc/stat', () => readFileSync('/proc/stat', 'latin1')) ?? '';
    } catch {
      return null;
    }
    const line = /^btime (\d+)$/m.exec(stat);
    cachedBootTimeMs = line === null ? null : Number(line[1]) * 1000;
  }
  const ticks = Number(startTime);
  if (cachedBootTimeMs === null || startTime === '' || !Number.isFinite(ticks)) return null;
  return cachedBootTimeMs + (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** A process's stat line, or null when it is gone; throws ProcError when /proc cannot be read. */
export function readProcStat(pid: number): ProcStat | null {
  const text = procRead(`/proc/${pid}/stat`, () => readProcFile(`/proc/${pid}/stat`).toString('latin1'));
  if (text === null) return null;
  // comm (field 2) may hold spaces and parentheses: the fields after it start at the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const state = fields[0];
  const ppid = fields[1];
  const pgrp = fields[2];
  const startTime = fields[19];
  if (state === undefined || ppid === undefined || pgrp === undefined || startTime === undefined) return null;
  return { pid, state, ppid: Number(ppid), pgrp: Number(pgrp), startTime };
}

function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

export interface ProcessRef {
  readonly pid: number;
  readonly startTime: string;
}

/** True while the process exists, is not a zombie, and is the same process (not a reused pid). */
export function isAlive(ref: ProcessRef): boolean {
  const stat = readProcStat(ref.pid);
  return stat !== null && !isDeadState(stat.state) && stat.startTime === ref.startTime;
}

function listPids(): number[] {
  const pids: number[] = [];
  const names = procRead('/proc', () => readdirSync('/proc'));
  if (names === null) throw new ProcError('Cannot read /proc: it is not there');
  for (const name of names) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(name));
  }
  return pids;
}

/** `needle` is `\0NAME=value\0`; the first variable of a block has no NUL before it. */
function environHas(pid: number, needle: Buffer): boolean {
  const environ = procRead(`/proc/${pid}/environ`, () => readProcFile(`/proc/${pid}/environ`));
  return environ !== null && (environ.includes(needle) || environ.indexOf(needle.subarray(1)) === 0);
}

/** A process with the session marker it carries (if any), as one scan of /proc saw it. */
interface ScannedProcess extends ProcessRef {
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: string | null;
}

/**
 * One read of the process table. `endedDuring` is the latest start time (clock ticks after boot)
 * of a process that was listed but found dead or gone when read: Infinity when its start time is
 * unknown, -1 when none. Such a process may have forked after the listing and before it died, so
 * a scan tells that no process of a session is left only if nothing younger than the session
 * ended during it.
 */
interface Scan {
  readonly processes: readonly ScannedProcess[];
  readonly endedDuring: number;
}

/**
 * Reads the marker only of processes started at or after `since` (clock ticks after boot): a
 * descendant of a session cannot be older than the session, and reading every process's
 * environment is what makes a scan expensive.
 */
function scanAll(since: number): Scan {
  const processes: ScannedProcess[] = [];
  let endedDuring = -1;
  const self = process.pid;
  for (const pid of listPids()) {
    if (pid === self) continue;
    const stat = readProcStat(pid);
    if (stat === null) {
      endedDuring = Infinity;
      continue;
    }
    const started = Number(stat.startTime);
    if (isDeadState(stat.state)) {
      endedDuring = Math.max(endedDuring, started);
      continue;
    }
    let session: string | null = null;
    if (started >= since) {
      const environ = procRead(`/proc/${pid}/environ`, () => readProcFile(`/proc/${pid}/environ`));
      if (environ === null) endedDuring = Math.max(endedDuring, started);
      else session = markerValue(environ, SESSION_MARKER_VAR);
    }
    processes.push({ pid, startTime: stat.startTime, ppid: stat.ppid, pgrp: stat.pgrp, session });
  }
  return { processes, endedDuring };
}

let pendingScan: Promise<Scan> | undefined;
let pendingSince = Infinity;
/** When the next scan may begin (performance.now()): scans keep the event loop at most half busy. */
let nextScanAt = 0;

/**
 * One scan of /proc serves every caller that asked before it began: when a hundred services stop
 * at once, the process table is read once, not a hundred times. The scan runs after every caller
 * asked, so none of them gets a picture older than its question. A scan waits after the previous
 * one for as long as that one took: when stops trickle in (a daemon busy with 500 of them), the
 * callers of that pause share the next scan instead of each paying one, and the daemon keeps
 * answering in between.
 */
function sharedScan(since: number): Promise<Scan> {
  pendingSince = Math.min(pendingSince, since);
  pendingScan ??= new Promise((resolve, reject) => {
    const run = (): void => {
      const threshold = pendingSince;
      pendingScan = undefined;
      pendingSince = Infinity;
      const began = performance.now();
      scanWithRetries(threshold).then((scanned) => {
        const ended = performance.now();
        nextScanAt = ended + (ended - began);
        resolve(scanned);
      }, reject);
    };
    const wait = nextScanAt - performance.now();
    if (wait > 1) setTimeout(run, wait);
    else setImmediate(run);
  });
  return pendingScan;
}

/** Pauses between the tries of a scan that /proc refused (file descriptors run out, then come back). */
const SCAN_RETRY_MS = [10, 50, 100, 250, 500];

/** A scan ends: it succeeds, or fails with ProcError after a few tries (about a second). */
async function scanWithRetries(since: number): Promise<Scan> {
  for (let attempt = 0; ; attempt++) {
    try {
      return scanAll(since);
    } catch (error) {
      const pause = SCAN_RETRY_MS[attempt];
      if (!(error instanceof ProcError) || pause === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * Every live process of a session: any process whose environment carries the session marker
 * (descendants that called setsid or double-forked too), the members of its process groups while
 * each group's leader is still the session's own process (same pid, same start time), and every
 * descendant of those by parent pid (one that cleared its environment and left the group, such as
 * `setsid env -i sleep`). A group whose leader is gone is never trusted by number: its pgid may
 * belong to someone else now.
 */
export async function findSessionProcessesShared(target: SessionScanTarget): Promise<ProcessRef[]> {
  return (await scanSession(target)).members;
}

export interface SessionScanTarget {
  readonly pgids: readonly number[];
  readonly marker: string;
  /** Start time (clock ticks after boot) of the session's first process, the group leader. */
  readonly since?: number;
}

/**
 * The session's live processes (as `findSessionProcessesShared`), and whether the scan is
 * settled: no process younger than the session ended while it was read, so none of them can have
 * forked a member the scan missed. An empty settled scan means no process of the session is left.
 */
export async function scanSession(target: SessionScanTarget): Promise<{ members: ProcessRef[]; settled: boolean }> {
  const since = target.since ?? 0;
  const { processes: all, endedDuring } = await sharedScan(since);
  const trusted = new Set(
    target.pgids.filter((pgid) => since > 0 && all.some((entry) => entry.pid === pgid && Number(entry.startTime) === since)),
  );
  const members = all.filter((entry) => entry.session === target.marker || trusted.has(entry.pgrp));
  return { members: withDescendants(all, members, since), settled: endedDuring < since };
}

/** A process (alive, with exactly that identity) and all its descendants (a container's init and what runs in it). */
export async function processTree(root: ProcessRef): Promise<ProcessRef[]> {
  const since = Number(root.startTime);
  const { processes: all } = await sharedScan(since);
  const top = all.filter((entry) => entry.pid === root.pid && entry.startTime === root.startTime);
  return withDescendants(all, top, since);
}

/** `members` and every process younger than `since` whose parent chain leads to one of them. */
function withDescendants(all: readonly ScannedProcess[], members: readonly ScannedProcess[], since: number): ScannedProcess[] {
  const found = new Set(members.map((entry) => entry.pid));
  const children = new Map<number, ScannedProcess[]>();
  for (const entry of all) {
    if (Number(entry.startTime) < since) continue;
    const siblings = children.get(entry.ppid);
    if (siblings === undefined) children.set(entry.ppid, [entry]);
    else siblings.push(entry);
  }
  const result = [...members];
  for (let index = 0; index < result.length; index++) {
    for (const child of children.get(result[index]!.pid) ?? []) {
      if (found.has(child.pid)) continue;
      found.add(child.pid);
      result.push(child);
    }
  }
  return result;
}

/** Every live process in one of `pgids`, or whose environment holds `name=value`. */
export function findProcesses(pgids: readonly number[], name: string, value: string): ProcessRef[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: ProcessRef[] = [];
  const self = process.pid;
  for (const pid of listPids()) {
    if (pid === self) continue;
    const stat = readProcStat(pid);
    if (stat === null || isDeadState(stat.state)) continue;
    if (pgids.includes(stat.pgrp) || environHas(pid, needle)) {
      found.push({ pid, startTime: stat.startTime });
    }
  }
  return found;
}

/** Sends a signal, ignoring a process or group that is already gone. */
export function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export interface MarkedProcess extends ProcessRef {
  readonly instance: string | null;
  readonly session: string | null;
}

function markerValue(environ: Buffer, name: string): string | null {
  const prefix = Buffer.from(`${name}=`);
  let at = environ.indexOf(prefix);
  while (at > 0 && environ[at - 1] !== 0) at = environ.indexOf(prefix, at + 1);
  if (at < 0) return null;
  const end = environ.indexOf(0, at);
  return environ.toString('utf8', at + prefix.length, end < 0 ? environ.length : end);
}

/** Every live process that carries a tend instance marker, with its instance and session. */
export function findMarkedProcesses(): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const stat = readProcStat(pid);
    if (stat === null || isDeadState(stat.state)) continue;
    const environ = procRead(`/proc/${pid}/environ`, () => readProcFile(`/proc/${pid}/environ`));
    if (environ === null) continue;
    const instance = markerValue(environ, INSTANCE_MARKER_VAR);
    if (instance !== null) found.push({ pid, startTime: stat.startTime, instance, session: markerValue(environ, SESSION_MARKER_VAR) });
  }
  return found;
}
