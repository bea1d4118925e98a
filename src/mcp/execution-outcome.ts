/**
 * Waiting for an execution and answering with its outcome: the phase, the exit code of its task,
 * each step, why it failed, and the tail of its output. A task that ran and failed is an answer,
 * not a tool error.
 */
import { z } from 'zod';
import type { ApiClient } from '../client/api-client.js';
import type { TaskExecution } from '../domain/schema.js';
import { FINISHED_EXECUTION_PHASES, plural, reply } from './answers.js';
import { executionDetail, ExecutionDetail, mainExitCode } from './execution-answers.js';
import { tailLines } from './log-reading.js';
import { seconds, waitUntil, type Progress } from './waiting.js';

export const ExecutionOutcome = {
  execution: ExecutionDetail,
  outcome: z
    .enum(['SUCCEEDED', 'FAILED', 'STOPPED', 'STILL_RUNNING', 'STARTED', 'STOPPING'])
    .describe('how it ended; STILL_RUNNING: the wait ended first; STARTED, STOPPING: not waited for'),
  exitCode: z.number().nullable().describe("the exit code of the task's own command (null until it has one)"),
  waitedSeconds: z.number(),
  outputTail: z.array(z.string()).describe('the last lines of its output, secrets masked'),
};

export function getExecution(client: ApiClient, id: string): Promise<TaskExecution> {
  return client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id }).then(({ taskExecution }) => taskExecution);
}

/** Ended, steps and all: an execution is FAILED as soon as a step fails, and ends once the rest of its group has (`completedAt`). */
export const finished = (execution: TaskExecution): boolean =>
  FINISHED_EXECUTION_PHASES.includes(execution.status.phase) && execution.metadata.completedAt !== undefined;

export function waitForExecution(client: ApiClient, id: string, options: { timeoutMs: number; signal: AbortSignal; progress: Progress | undefined }) {
  return waitUntil(() => getExecution(client, id), finished, {
    ...options,
    events: client,
    describe: (execution) => `execution ${execution.id}: ${execution.status.phase.replace('TASK_EXECUTION_PHASE_', '')}`,
  });
}

export async function executionOutcome(
  client: ApiClient,
  execution: TaskExecution,
  options: { waited: boolean; waitedMs: number; tail: number; taskNames: ReadonlyMap<string, string>; asked?: 'STARTED' | 'STOPPING' },
) {
  const detail = executionDetail(execution, options.taskNames);
  const outcome = finished(execution) ? detail.phase : options.waited ? 'STILL_RUNNING' : (options.asked ?? 'STARTED');
  const url = execution.status.logUrl;
  const outputTail = options.tail > 0 && url !== undefined && url !== '' ? await tailLines(client, url, options.tail) : [];
  const exitCode = mainExitCode(execution);
  const name = `Task "${detail.task}"`;
  const lines: string[] = [];
  switch (outcome) {
    case 'STILL_RUNNING':
      lines.push(`${name} is still ${detail.phase} after ${seconds(options.waitedMs)} (execution ${detail.id}): call list_executions or read_logs with this execution to follow it, or stop_execution`);
      break;
    case 'STARTED':
    case 'STOPPING':
      lines.push(`${name} ${outcome === 'STARTED' ? 'started' : 'is stopping'} (execution ${detail.id}): list_executions and read_logs follow it`);
      break;
    default:
      lines.push(`${name} ${outcome} (execution ${detail.id}${exitCode !== null ? `, exit code ${exitCode}` : ''})${detail.failure !== undefined ? `: ${detail.failure}` : ''}`);
  }
  if (detail.steps.length > 1) {
    for (const step of detail.steps) {
      const exit = step.exitCode !== null ? `, exit code ${step.exitCode}` : step.signal !== undefined ? `, killed by ${step.signal}` : '';
      lines.push(`  ${step.kind} ${step.label}: ${step.phase}${exit}`);
    }
  }
  if (outputTail.length > 0) lines.push(`Last ${plural(outputTail.length, 'line')} of its output:`, ...outputTail);
  else if (options.tail > 0) lines.push(finished(execution) ? 'It printed nothing' : 'No output yet');
  return reply(lines.join('\n'), { execution: detail, outcome, exitCode, waitedSeconds: options.waitedMs / 1000, outputTail });
}
