import type { Gitpod } from '@gitpod/sdk';
import type { TaskExecution } from '../../src/domain/schema.js';
import { waitFor } from './wait.js';

export async function createTask(
  client: Gitpod,
  reference: string,
  command: string,
  dependsOn: string[] = [],
  spec: Record<string, unknown> = {},
): Promise<string> {
  const { task } = await client.environments.automations.tasks.create({
    metadata: { reference, name: reference },
    spec: { command, ...spec },
    dependsOn,
  });
  return task.id;
}

export async function getExecution(client: Gitpod, id: string): Promise<TaskExecution> {
  return (await client.environments.automations.tasks.executions.retrieve({ id })).taskExecution as unknown as TaskExecution;
}

const FINISHED = ['TASK_EXECUTION_PHASE_SUCCEEDED', 'TASK_EXECUTION_PHASE_FAILED', 'TASK_EXECUTION_PHASE_STOPPED'];

/**
 * Waits for the execution's phase; for a finished one (or none given) also until it has ended,
 * steps and all (it is FAILED as soon as a step fails, while the rest of the group still runs).
 * `{ended: false}` returns at the phase itself.
 */
export async function waitExecution(
  client: Gitpod,
  id: string,
  phase?: string,
  timeoutMs = 15_000,
  { ended = true }: { ended?: boolean } = {},
): Promise<TaskExecution> {
  return waitFor(
    async () => {
      const execution = await getExecution(client, id);
      const reached = phase === undefined ? FINISHED.includes(execution.status.phase) : execution.status.phase === phase;
      const done = !ended || !FINISHED.includes(execution.status.phase) || execution.metadata.completedAt !== undefined;
      return reached && done ? execution : undefined;
    },
    { timeoutMs, what: `execution ${id} to be ${phase ?? 'finished'}` },
  );
}

/** `[[label, ...], ...]` of a plan, to compare layering. */
export function planLabels(execution: TaskExecution): string[][] {
  return execution.spec.plan.map((group) => group.steps.map((step) => step.label));
}

export function stepPhases(execution: TaskExecution): Record<string, string> {
  const labels = new Map(execution.spec.plan.flatMap((group) => group.steps.map((step) => [step.id, step.label] as const)));
  return Object.fromEntries(execution.status.steps.map((step) => [labels.get(step.id)!, step.phase]));
}
