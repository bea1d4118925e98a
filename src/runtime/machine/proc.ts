/**
 * What Linux's /proc says about processes: identity (pid + start time + boot id), liveness
 * (a zombie counts as dead), and the markers in their environments (a session's processes are
 * found by scans: proc-scan.ts).
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

export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

export interface ProcessRef {
  readonly pid: number;
  readonly startTime: string;
}

/** True while the process exists, is not a zombie, and is the same process (not a reused pid). */
export function isAlive(ref: ProcessRef): boolean {
  return liveStat(ref) !== null;
}

/** The stat of the process while it is alive and the same process (as `isAlive`), else null. */
export function liveStat(ref: ProcessRef): ProcStat | null {
  const stat = readProcStat(ref.pid);
  return stat !== null && !isDeadState(stat.state) && stat.startTime === ref.startTime ? stat : null;
}

/** Every pid in /proc (processes, not threads); throws ProcError when /proc cannot be read. */
export function listPids(): number[] {
  const pids: number[] = [];
  const names = procRead('/proc', () => readdirSync('/proc'));
  if (names === null) throw new ProcError('Cannot read /proc: it is not there');
  for (const name of names) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(name));
  }
  return pids;
}

/** A process's environment block (a view valid until the next read of /proc), or null when it is gone or not ours to read. */
export function readEnviron(pid: number): Buffer | null {
  const path = `/proc/${pid}/environ`;
  return procRead(path, () => readProcFile(path));
}

/** `needle` is `\0NAME=value\0`; the first variable of a block has no NUL before it. */
function environHas(pid: number, needle: Buffer): boolean {
  const environ = readEnviron(pid);
  return environ !== null && (environ.includes(needle) || environ.indexOf(needle.subarray(1)) === 0);
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

/** The value of variable `name` in an environment block, or null. */
export function markerValue(environ: Buffer, name: string): string | null {
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
    const environ = readEnviron(pid);
    if (environ === null) continue;
    const instance = markerValue(environ, INSTANCE_MARKER_VAR);
    if (instance !== null) found.push({ pid, startTime: stat.startTime, instance, session: markerValue(environ, SESSION_MARKER_VAR) });
  }
  return found;
}
