/**
 * A task step that the same trigger firing already runs in another execution (each task runs at
 * most once per firing, SPEC §3): this execution's step waits for that run's result. Its log says
 * where the output is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { TaskExecutionStep } from '../../domain/schema.js';
import type { Firing, SharedStepResult } from '../firing.js';
import type { EngineSettings } from '../settings.js';
import type { StepEvents, StepHandle } from './step.js';

/**
 * Claims the step's task for the firing. The first execution to reach it runs it (`run`, whose
 * outcome is then published to the others); the others wait.
 */
export function startClaimedStep(
  settings: EngineSettings,
  firing: Firing | undefined,
  executionId: string,
  step: TaskExecutionStep,
  index: number,
  events: StepEvents,
  run: (events: StepEvents) => StepHandle,
): StepHandle {
  const claim = firing?.claim(step.id, executionId);
  if (claim === undefined) return run(events);
  if (claim.owner) {
    return run({
      ...events,
      ended: (outcome) => {
        claim.publish({ ...outcome });
        events.ended(outcome);
      },
    });
  }
  return awaitShared(settings, executionId, step, index, claim.ownerExecutionId, claim.result, events);
}

function awaitShared(
  settings: EngineSettings,
  executionId: string,
  step: TaskExecutionStep,
  index: number,
  ownerExecutionId: string,
  result: Promise<SharedStepResult>,
  events: StepEvents,
): StepHandle {
  mkdirSync(settings.layout.executionLogs(executionId), { recursive: true, mode: 0o700 });
  writeFileSync(settings.layout.stepLog(executionId, index), `[tend] "${step.label}" runs once for this trigger: its output is in execution ${ownerExecutionId}\n`, { mode: 0o600 });
  let cancelled = false;
  void result.then((shared) => {
    if (!cancelled) events.ended({ outcome: shared.outcome, failureMessage: shared.failureMessage, output: { ...shared.output } });
  });
  return {
    stop: () => {
      if (cancelled) return;
      cancelled = true;
      events.ended({ outcome: 'failed', failureMessage: null, output: {} });
    },
  };
}
