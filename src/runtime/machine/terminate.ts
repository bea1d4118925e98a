/**
 * Ending a session's processes on this machine: signal its process group and its escaped
 * descendants, wait until none is alive (zombies count as dead), SIGKILL what is left. These are
 * the machine's primitives of the stop rules (`runtime/stop-rules.ts` decides when to use which).
 */
import { isAlive, liveStat, ProcError, sendSignal, type ProcessRef } from './proc.js';
import type { Birth } from './pid-order.js';
import { findSessionProcessesShared, scanSession } from './proc-scan.js';

export interface SessionTarget {
  /** The process group of the session's command. */
  readonly pgids: readonly number[];
  readonly marker: string;
  /** Start time of the session's first process (/proc stat field 22); descendants are younger. */
  readonly since?: number;
  /** Its pid and the fork count before it was forked: scans then read younger pids only. */
  readonly birth?: Birth;
}

const POLL_FIRST_MS = 2;
const POLL_MAX_MS = 50;
/** After SIGKILL only an uninterruptible sleep can keep a process; do not wait forever on one. */
const KILL_WAIT_CAP_MS = 10_000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls in a row that /proc may refuse before waiting gives up (about 2.5 s at the longest pause). */
const PROC_FAILURES_CAP = 50;

/**
 * Signals the processes found to be the session's, one by one (never a pgid by number), each
 * after one read of its stat: alive, and the same process. A SIGTERM is followed by SIGCONT to a
 * stopped process, so that it sees it (not to the rest: a stop of 500 services made 1,000 reads
 * and 1,000 kill(2)s of that).
 */
function signalAll(members: readonly ProcessRef[], signal: NodeJS.Signals): void {
  for (const member of members) {
    const stat = liveStat(member);
    if (stat === null) continue;
    sendSignal(member.pid, signal);
    if (signal === 'SIGTERM' && (stat.state === 'T' || stat.state === 't')) sendSignal(member.pid, 'SIGCONT');
  }
}

/**
 * Waits until no process of the session is alive, signalling newcomers found on the final scan
 * (a process forked just before the first signal). Returns false if it gave up first (the
 * deadline passed or `stop` says so).
 */
async function waitGone(
  target: SessionTarget,
  initial: readonly ProcessRef[],
  signal: NodeJS.Signals,
  giveUp: () => boolean,
): Promise<boolean> {
  let tracked = [...initial];
  let pause = POLL_FIRST_MS;
  let failures = 0;
  for (;;) {
    try {
      tracked = tracked.filter(isAlive);
      if (tracked.length === 0) {
        // Everyone we knew of is gone; a last scan makes sure nothing new appeared meanwhile.
        const rest = await findSessionProcessesShared(target);
        if (rest.length === 0) return true;
        signalAll(rest, signal);
        tracked = rest;
      }
      failures = 0;
    } catch (error) {
      // /proc refused (no file descriptor left): nothing is known; try again, a while.
      if (!(error instanceof ProcError) || ++failures > PROC_FAILURES_CAP) throw error;
    }
    if (giveUp()) return false;
    await delay(pause);
    pause = Math.min(pause * 2, POLL_MAX_MS);
  }
}

/** SIGKILL to every process of the session; resolves once none is alive. */
export async function killSession(target: SessionTarget): Promise<void> {
  const { members, settled } = await scanSession(target);
  // None left, and none could have forked unseen: no second scan (a task's step ends a scan sooner).
  if (members.length === 0 && settled) return;
  signalAll(members, 'SIGKILL');
  const deadline = Date.now() + KILL_WAIT_CAP_MS;
  await waitGone(target, members, 'SIGKILL', () => Date.now() >= deadline);
}

/** The processes of one session, as the stop rules handle them. */
export class SessionProcesses {
  private members: readonly ProcessRef[] = [];

  constructor(readonly target: SessionTarget) {}

  /** SIGTERM to every process of the session (and SIGCONT to a stopped one, so it sees it). */
  async terminate(): Promise<void> {
    this.members = await findSessionProcessesShared(this.target);
    signalAll(this.members, 'SIGTERM');
  }

  /** Resolves once none is alive; newcomers get SIGTERM too. Polling ends when `signal` aborts. */
  async gone(signal: AbortSignal): Promise<void> {
    await waitGone(this.target, this.members, 'SIGTERM', () => signal.aborted);
  }

  kill(): Promise<void> {
    return killSession(this.target);
  }
}

/** Resolves true when `ref` has exited (or become a zombie), false if `timeoutMs` passed first. */
export async function waitExit(ref: ProcessRef, timeoutMs: number, maxPollMs = POLL_MAX_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = POLL_FIRST_MS;
  while (aliveOrUnknown(ref)) {
    if (Date.now() >= deadline) return false;
    await delay(Math.min(pause, Math.max(1, deadline - Date.now())));
    pause = Math.min(pause * 2, maxPollMs);
  }
  return true;
}

/** While /proc cannot be read, a process counts as alive: its exit is seen once it can. */
function aliveOrUnknown(ref: ProcessRef): boolean {
  try {
    return isAlive(ref);
  } catch (error) {
    if (error instanceof ProcError) return true;
    throw error;
  }
}
