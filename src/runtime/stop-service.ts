/**
 * The stop rules of a service, as the API reference states them:
 * - no stop command: SIGTERM to the process group, SIGKILL after the stop timeout → STOPPED;
 * - a stop command: run it; when it exits, SIGKILL the start command's group; exit 0 → STOPPED,
 *   otherwise FAILED; if it outlives the stop timeout, SIGKILL both groups → FAILED;
 * - force (DeleteService with force): SIGKILL at once.
 * Escaped descendants (found by marker) are treated as members of the start command's group.
 */
import { describeExit, type ExitInfo } from '../domain/service-lifecycle.js';
import { formatDuration } from '../domain/duration.js';
import { readLogTail } from './log-tail.js';
import { spawnCommand, type CommandSpec } from './spawn-command.js';
import { killSession, terminateSession, type SessionTarget } from './terminate.js';

export interface StopServiceOptions {
  readonly target: SessionTarget;
  readonly stopCommand: CommandSpec | null;
  readonly timeoutMs: number;
  readonly force: boolean;
}

/** Resolves with the failure message when the stop itself failed, or null. */
export async function stopService(options: StopServiceOptions): Promise<string | null> {
  const { target, stopCommand, timeoutMs } = options;
  if (options.force) {
    await killSession(target);
    return null;
  }
  if (stopCommand === null) {
    await terminateSession(target, timeoutMs);
    return null;
  }
  let stop;
  try {
    stop = spawnCommand(stopCommand);
  } catch (error) {
    await terminateSession(target, timeoutMs);
    return `Cannot run stop command "${stopCommand.command}": ${(error as Error).message}`;
  }
  const both: SessionTarget = { ...target, pgids: [...target.pgids, stop.identity.pgid] };
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    stop.exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  await killSession(both);
  if (outcome === 'timeout') {
    return `Stop command "${stopCommand.command}" did not exit within ${formatDuration(timeoutMs)}; it was killed together with the service`;
  }
  return stopFailure(stopCommand, outcome);
}

function stopFailure(stopCommand: CommandSpec, exit: ExitInfo): string | null {
  if (exit.code === 0) return null;
  return describeExit(`Stop command "${stopCommand.command}"`, exit, readLogTail(stopCommand.logPath));
}
