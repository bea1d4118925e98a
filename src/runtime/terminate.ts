/**
 * Ending a session's processes: signal its process groups and its escaped descendants, wait until
 * none is alive (zombies count as dead), escalate to SIGKILL after a timeout.
 */
import { findSessionProcessesShared, isAlive, sendSignal, type ProcessRef } from './proc.js';

export interface SessionTarget {
  /** Process groups of the session (the start command's, and the stop command's if any). */
  readonly pgids: readonly number[];
  readonly marker: string;
  /** Start time of the session's first process (/proc stat field 22); descendants are younger. */
  readonly since?: number;
}

const POLL_FIRST_MS = 2;
const POLL_MAX_MS = 50;
/** After SIGKILL only an uninterruptible sleep can keep a process; do not wait forever on one. */
const KILL_WAIT_CAP_MS = 10_000;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Signals the processes found to be the session's, one by one (never a pgid by number). */
function signalAll(members: readonly ProcessRef[], signal: NodeJS.Signals): void {
  for (const member of members) if (isAlive(member)) sendSignal(member.pid, signal);
}

/**
 * Waits until no process of the session is alive, signalling newcomers found on the final scan
 * (a process forked just before the first signal). Returns false if the deadline passed first.
 */
async function waitGone(
  target: SessionTarget,
  initial: readonly ProcessRef[],
  signal: NodeJS.Signals,
  deadline: number,
): Promise<boolean> {
  let tracked = initial.filter(isAlive);
  let pause = POLL_FIRST_MS;
  for (;;) {
    if (tracked.length === 0) {
      // Everyone we knew of is gone; a last scan makes sure nothing new appeared meanwhile.
      const rest = await findSessionProcessesShared(target);
      if (rest.length === 0) return true;
      signalAll(rest, signal);
      tracked = rest;
    }
    if (Date.now() >= deadline) return false;
    await delay(Math.min(pause, Math.max(1, deadline - Date.now())));
    pause = Math.min(pause * 2, POLL_MAX_MS);
    tracked = tracked.filter(isAlive);
  }
}

/** SIGKILL to every process of the session; resolves once none is alive. */
export async function killSession(target: SessionTarget): Promise<void> {
  const members = await findSessionProcessesShared(target);
  signalAll(members, 'SIGKILL');
  await waitGone(target, members, 'SIGKILL', Date.now() + KILL_WAIT_CAP_MS);
}

/**
 * SIGTERM to every process of the session; whatever is still alive after `timeoutMs` gets
 * SIGKILL. Resolves with whether SIGKILL was needed.
 */
export async function terminateSession(target: SessionTarget, timeoutMs: number): Promise<{ killed: boolean }> {
  const members = await findSessionProcessesShared(target);
  if (members.length === 0) return { killed: false };
  signalAll(members, 'SIGTERM');
  // A stopped (SIGSTOP) process would sit on SIGTERM until the timeout: let it see the signal.
  signalAll(members, 'SIGCONT');
  if (await waitGone(target, members, 'SIGTERM', Date.now() + timeoutMs)) return { killed: false };
  await killSession(target);
  return { killed: true };
}

/** Resolves true when `ref` has exited (or become a zombie), false if `timeoutMs` passed first. */
export async function waitExit(ref: ProcessRef, timeoutMs: number, maxPollMs = POLL_MAX_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = POLL_FIRST_MS;
  while (isAlive(ref)) {
    if (Date.now() >= deadline) return false;
    await delay(Math.min(pause, Math.max(1, deadline - Date.now())));
    pause = Math.min(pause * 2, maxPollMs);
  }
  return true;
}
