/**
 * The stop rules of a session, as the API reference states them, for every runtime:
 * - force (DeleteService with force): SIGKILL at once;
 * - no stop command: SIGTERM to everything of the session, SIGKILL to what is left after the
 *   stop timeout → no failure;
 * - a stop command: run it; when it exits, SIGKILL what is left of both; exit 0 → no failure,
 *   otherwise its exit and last output; if it outlives the stop timeout, SIGKILL both → failure.
 * A runtime supplies the primitives (`Stoppable`); the rules and their messages exist only here.
 */
import { within, type Clock } from '../domain/clock.js';
import { formatDuration } from '../domain/duration.js';
import { describeExit, type ExitInfo } from '../domain/service-lifecycle.js';
import type { StopRules } from './runtime.js';

export interface StopCommandRun {
  readonly exited: Promise<ExitInfo>;
  /** The last lines it printed, for a failure message. */
  tail(): string;
}

export interface Stoppable {
  /** SIGTERM to everything of the session. */
  terminate(): Promise<void>;
  /** Resolves once nothing of the session is alive; polling ends when `signal` aborts. */
  gone(signal: AbortSignal): Promise<void>;
  /** SIGKILL to everything of the session (the stop command's processes too); resolves once gone. */
  kill(): Promise<void>;
  /** Starts the stop command beside the session; rejects when it cannot run. */
  runStopCommand(command: string): Promise<StopCommandRun>;
}

/** SIGTERM, then SIGKILL to whatever is left once `timeoutMs` passed. */
export async function terminateGracefully(target: Stoppable, timeoutMs: number, clock: Clock): Promise<void> {
  await target.terminate();
  const polling = new AbortController();
  const outcome = await within(clock, target.gone(polling.signal), timeoutMs);
  polling.abort();
  if (outcome === 'timeout') await target.kill();
}

/** Resolves with the failure message when the stop itself failed, or null. */
export async function applyStopRules(target: Stoppable, rules: StopRules, clock: Clock): Promise<string | null> {
  if (rules.force) {
    await target.kill();
    return null;
  }
  if (rules.stopCommand === null) {
    await terminateGracefully(target, rules.timeoutMs, clock);
    return null;
  }
  const command = rules.stopCommand;
  let run: StopCommandRun;
  try {
    run = await target.runStopCommand(command);
  } catch (error) {
    await terminateGracefully(target, rules.timeoutMs, clock);
    return `Cannot run stop command "${command}": ${(error as Error).message}`;
  }
  const outcome = await within(clock, run.exited, rules.timeoutMs);
  await target.kill();
  if (outcome === 'timeout') {
    return `Stop command "${command}" did not exit within ${formatDuration(rules.timeoutMs)}; it was killed together with the service`;
  }
  if (outcome.code === 0) return null;
  return describeExit(`Stop command "${command}"`, outcome, run.tail());
}
