/** An execution's log as the log endpoint streams it: its steps' logs in plan order. */
import { stepOutcome } from '../../domain/execution-status.js';
import type { StateLayout } from '../../domain/state-layout.js';
import type { TaskExecution } from '../../domain/schema.js';
import type { ExecutionLogSource } from '../log-source.js';

export interface StepTimes {
  readonly startedAt: number;
  endedAt?: number;
}

export interface ExecutionProgress {
  readonly execution: () => TaskExecution;
  readonly finished: () => boolean;
  /** True while something of the step still runs (its end is not reported yet). */
  readonly live: (stepId: string) => boolean;
  readonly times: ReadonlyMap<string, StepTimes>;
  readonly secrets: () => readonly string[];
}

export function executionLogSource(layout: StateLayout, progress: ExecutionProgress): ExecutionLogSource {
  const execution = progress.execution();
  const steps = execution.spec.plan.flatMap((group) => group.steps);
  return {
    kind: 'execution',
    isFinished: progress.finished,
    secrets: progress.secrets,
    steps: steps.map((step, index) => ({
      id: step.id,
      title: step.label,
      path: layout.stepLog(execution.id, index),
      writesOutput: step.task !== undefined,
      progress: () => {
        const status = progress.execution().status.steps.find((candidate) => candidate.id === step.id);
        if (status === undefined) return undefined;
        if (status.phase === 'TASK_EXECUTION_PHASE_RUNNING' || progress.live(step.id)) return { ended: false };
        const times = progress.times.get(step.id);
        const seconds = times?.endedAt !== undefined ? (times.endedAt - times.startedAt) / 1000 : 0;
        return { ended: true, outcome: stepOutcome(status.phase), secondsElapsed: Math.round(seconds * 1000) / 1000 };
      },
    })),
  };
}
