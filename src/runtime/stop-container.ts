/**
 * The stop rules for a service in a container, the same as on the machine: no stop command:
 * SIGTERM (through the container's init), SIGKILL after the stop timeout → STOPPED; a stop
 * command: run it inside the container, then SIGKILL; exit 0 → STOPPED, otherwise FAILED; a stop
 * command that outlives the timeout is killed with the container → FAILED. Force: SIGKILL at once.
 */
import { formatDuration } from '../domain/duration.js';
import { describeExit, type ExitInfo } from '../domain/service-lifecycle.js';
import { execInContainer, signalContainer } from './docker-runtime.js';

export interface StopContainerOptions {
  readonly id: string;
  readonly exited: Promise<ExitInfo>;
  readonly stopCommand: { command: string; env: Readonly<Record<string, string>>; logPath: string } | null;
  readonly timeoutMs: number;
  readonly force: boolean;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export async function stopContainer(options: StopContainerOptions): Promise<string | null> {
  const { id, exited, stopCommand, timeoutMs } = options;
  if (options.force) {
    await signalContainer(id, 'SIGKILL');
    await exited;
    return null;
  }
  if (stopCommand === null) {
    await signalContainer(id, 'SIGTERM');
    if ((await within(exited, timeoutMs)) === 'timeout') {
      await signalContainer(id, 'SIGKILL');
      await exited;
    }
    return null;
  }
  let result: { code: number | null; output: string };
  try {
    result = await execInContainer(id, stopCommand.command, stopCommand.env, { timeoutMs, logPath: stopCommand.logPath });
  } catch (error) {
    await signalContainer(id, 'SIGKILL');
    await exited;
    return `Cannot run stop command "${stopCommand.command}" in the container: ${(error as Error).message}`;
  }
  await signalContainer(id, 'SIGKILL');
  await exited;
  if (result.code === null) {
    return `Stop command "${stopCommand.command}" did not exit within ${formatDuration(timeoutMs)}; it was killed together with the service`;
  }
  if (result.code === 0) return null;
  return describeExit(`Stop command "${stopCommand.command}"`, { code: result.code, signal: null }, result.output.split('\n').slice(-10).join('\n'));
}
