/**
 * A task step: the task's command as a session of the runtime (which decides where it runs),
 * its output in the step's log, its GITPOD_OUTPUT read when it ends. Whatever the command left behind is killed before the step is reported ended, so a finished
 * step has no process left.
 */
import { readFileSync, unlink } from 'node:fs';
import { parseOutput } from '../../domain/output.js';
import type { TaskExecutionStep } from '../../domain/schema.js';
import { describeExit } from '../../domain/service-lifecycle.js';
import { readLogTail } from '../../runtime/log-tail.js';
import type { Session } from '../../runtime/runtime.js';
import { EnvError, resolveEnv, type ResolvedEnv } from '../secrets.js';
import type { EngineParts } from '../settings.js';
import { newRunId } from '../services/service-run.js';
import type { StepEvents, StepHandle } from './step.js';

function readOutput(path: string): Record<string, string> {
  try {
    return parseOutput(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

export function startTaskStep(parts: EngineParts, executionId: string, step: TaskExecutionStep, index: number, events: StepEvents): StepHandle {
  const { settings, runtime, log } = parts;
  const { layout } = settings;
  const spec = step.task?.spec ?? {};
  const command = spec.command ?? '';
  const runId = newRunId();
  const logPath = layout.stepLog(executionId, index);
  const outputPath = layout.stepOutput(executionId, index);
  let resolved: ResolvedEnv;
  try {
    resolved = resolveEnv(spec.env, layout.secrets, settings.commandEnv, { GITPOD_OUTPUT: outputPath });
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    events.ended({ outcome: 'failed', failureMessage: `Cannot start task "${step.label}": ${error.message}`, output: {} });
    return { stop: () => {} };
  }
  events.resolved(resolved.secrets);
  let session: Session | null = null;
  let stopping = false;
  const stop = (): void => {
    if (session === null) return;
    session.stop({ stopCommand: null, timeoutMs: settings.taskStopTimeoutMs, force: false }).catch((error: unknown) =>
      log.error({ err: error, step: step.label }, 'Stopping a step failed'),
    );
  };
  runtime
    .start({ runId, resourceId: executionId, sessionLabel: `${executionId}/${step.id}`, command, env: resolved.env, workspace: settings.workspace, logPath, outputPath, runsOn: spec.runsOn })
    .then(
      (started) => {
        session = started;
        events.started(started.record);
        log.info({ step: step.label, pid: started.record.identity.pid }, 'Step started');
        if (stopping) stop();
        void started.exited.then(async (exit) => {
          await started.killLeftovers().catch(() => {});
          const output = resolved.secrets.maskOutput(readOutput(outputPath));
          const ok = exit.code === 0 && exit.signal === null;
          log.info({ step: step.label, exitCode: exit.code, signal: exit.signal }, 'Step exited');
          // The last lines may echo a secret; what is shared with other executions is masked here.
          const failureMessage = ok ? null : resolved.secrets.mask(describeExit(`Task "${step.label}": command "${command}"`, exit, readLogTail(logPath)));
          events.ended({ outcome: ok ? 'succeeded' : 'failed', failureMessage, output });
          // Read and kept in the execution's status: the file has served. Removed off the daemon's
          // thread, after the next steps are on their way (a removal, like a create, waits on the
          // disk's journal).
          unlink(outputPath, () => {});
        });
      },
      (error: unknown) => {
        if ((error as Error).name !== 'LaunchError') log.error({ err: error, step: step.label }, 'Starting a step failed');
        events.ended({ outcome: 'failed', failureMessage: `Cannot start task "${step.label}": ${(error as Error).message}`, output: {} });
      },
    );
  return {
    stop: () => {
      if (stopping) return;
      stopping = true;
      stop();
    },
  };
}
