/** A task execution as tools show it: outcome, each step's phase and exit code, why it failed. */
import { z } from 'zod';
import type { TaskExecution } from '../domain/schema.js';
import { executionLogUri, executionPhaseName, ExecutionPhaseName, exitOf, firstLine } from './answers.js';

export const ExecutionItem = z.object({
  id: z.string().describe('the execution id (stop_execution, read_logs)'),
  task: z.string().describe('the reference of the task it runs'),
  taskId: z.string(),
  phase: ExecutionPhaseName,
  startedBy: z.string().describe('the trigger that started it (manual: a person, an agent, the API)'),
  createdAt: z.string(),
  completedAt: z.string().optional(),
  failure: z.string().optional().describe('why it failed, in one line'),
  logUri: z.string().describe('the resource of its log (subscribe to follow it)'),
});
export type ExecutionItem = z.infer<typeof ExecutionItem>;

export const StepItem = z.object({
  label: z.string().describe('the task or service the step runs'),
  kind: z.enum(['task', 'service']),
  phase: ExecutionPhaseName,
  exitCode: z.number().nullable().describe("the task command's exit code; null while it runs, for a service step, or when a signal ended it"),
  signal: z.string().optional(),
  failureMessage: z.string().optional(),
});

export const ExecutionDetail = ExecutionItem.extend({ steps: z.array(StepItem) });
export type ExecutionDetail = z.infer<typeof ExecutionDetail>;

export function executionItem(execution: TaskExecution, taskNames: ReadonlyMap<string, string>): ExecutionItem {
  const { metadata, status } = execution;
  const failure = firstLine(status.failureMessage);
  return {
    id: execution.id,
    task: taskNames.get(metadata.taskId) ?? mainStepLabel(execution) ?? metadata.taskId,
    taskId: metadata.taskId,
    phase: executionPhaseName(status.phase),
    startedBy: metadata.startedBy,
    createdAt: metadata.createdAt,
    ...(metadata.completedAt !== undefined ? { completedAt: metadata.completedAt } : {}),
    ...(failure !== undefined ? { failure } : {}),
    logUri: executionLogUri(execution.id),
  };
}

function mainStepLabel(execution: TaskExecution): string | undefined {
  return execution.spec.plan.flatMap((group) => group.steps).find((step) => step.id === execution.metadata.taskId)?.label;
}

export function executionDetail(execution: TaskExecution, taskNames: ReadonlyMap<string, string>): ExecutionDetail {
  const plan = new Map(execution.spec.plan.flatMap((group) => group.steps.map((step) => [step.id, step] as const)));
  const steps = execution.status.steps.map((step) => {
    const planned = plan.get(step.id);
    const exit = exitOf(step.phase, step.failureMessage);
    return {
      label: planned?.label ?? step.id,
      kind: planned?.serviceId !== undefined ? ('service' as const) : ('task' as const),
      phase: executionPhaseName(step.phase),
      exitCode: planned?.serviceId !== undefined ? null : exit.exitCode,
      ...(exit.signal !== undefined ? { signal: exit.signal } : {}),
      ...(step.failureMessage !== undefined ? { failureMessage: step.failureMessage } : {}),
    };
  });
  return { ...executionItem(execution, taskNames), steps };
}

/** The exit code of the task the execution was started for (its own step). */
export function mainExitCode(execution: TaskExecution): number | null {
  const step = execution.status.steps.find((candidate) => candidate.id === execution.metadata.taskId);
  return step === undefined ? null : exitOf(step.phase, step.failureMessage).exitCode;
}

/** `lint: FAILED (execution 1f…)`, with the failure in one line. */
export function executionLine(item: ExecutionItem): string {
  return `${item.task}: ${item.phase} (execution ${item.id}, started by ${item.startedBy}, ${item.createdAt})${item.failure !== undefined ? `: ${item.failure}` : ''}`;
}
