/** The execution tools: `list_executions` (newest first, with filters) and `stop_execution`. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { findTask } from '../client/lookups.js';
import type { TaskExecution } from '../domain/schema.js';
import { executionPhase, ExecutionPhaseName, reply } from './answers.js';
import type { McpContext } from './context.js';
import { executionItem, ExecutionItem, executionLine } from './execution-answers.js';
import { executionOutcome, ExecutionOutcome, getExecution, waitForExecution } from './execution-outcome.js';
import { ANSWER_TAIL_LINES } from './log-reading.js';
import { taskNames } from './names.js';
import { progressOf } from './progress.js';
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from './waiting.js';

const MAX_LIST = 100;

export function registerExecutionTools(server: McpServer, context: McpContext): void {
  server.registerTool(
    'list_executions',
    {
      title: 'List task executions',
      description: 'The history of task executions, newest first: phase, what started it, why it failed (one line), its log resource.',
      inputSchema: {
        task: z.string().min(1).optional().describe("only this task's executions (its reference or id)"),
        phases: z.array(ExecutionPhaseName).optional().describe('only executions in these phases'),
        limit: z.number().int().min(1).max(MAX_LIST).default(20).describe('at most this many'),
      },
      outputSchema: { executions: z.array(ExecutionItem), more: z.boolean().describe('older ones match too') },
      annotations: { readOnlyHint: true },
    },
    async ({ task, phases, limit }) => {
      const client = await context.daemon();
      const filter: Record<string, unknown> = {};
      if (task !== undefined) filter.taskIds = [(await findTask(client, task)).id];
      if (phases !== undefined) filter.phases = phases.map(executionPhase);
      const page = await client.call<{ taskExecutions?: TaskExecution[]; pagination?: { nextToken?: string } }>('ListTaskExecutions', {
        filter,
        pagination: { pageSize: limit },
      });
      const names = await taskNames(client);
      const executions = (page.taskExecutions ?? []).map((execution) => executionItem(execution, names));
      const more = (page.pagination?.nextToken ?? '') !== '';
      const text = executions.length === 0 ? 'No executions' : [...executions.map(executionLine), ...(more ? ['(older ones too: raise limit or filter)'] : [])].join('\n');
      return reply(text, { executions, more });
    },
  );

  server.registerTool(
    'stop_execution',
    {
      title: 'Stop a task execution',
      description: 'Stops a running execution (its commands get SIGTERM, then SIGKILL after the task stop timeout) and by default waits until it has ended.',
      inputSchema: {
        execution: z.string().min(1).describe('the execution id (run_task and list_executions give it)'),
        wait: z.boolean().default(true).describe('wait until it has ended, at most timeoutSeconds'),
        timeoutSeconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(DEFAULT_WAIT_SECONDS),
      },
      outputSchema: ExecutionOutcome,
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    async ({ execution: id, wait, timeoutSeconds }, extra) => {
      const client = await context.daemon();
      await client.call('StopTaskExecution', { id });
      const names = await taskNames(client);
      const options = { tail: ANSWER_TAIL_LINES, taskNames: names };
      if (!wait) return executionOutcome(client, await getExecution(client, id), { ...options, waited: false, waitedMs: 0, asked: 'STOPPING' });
      const signal = AbortSignal.any([extra.signal, context.closed]);
      const waited = await waitForExecution(client, id, { timeoutMs: timeoutSeconds * 1000, signal, progress: progressOf(extra) });
      return executionOutcome(client, waited.done ? waited.value : waited.last, { ...options, waited: true, waitedMs: waited.waitedMs });
    },
  );
}
