/**
 * The task tools: `list_tasks`, `run_task` (waits by default and answers with the outcome, the
 * exit code and the tail of the output) and `fire_trigger`.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { listAll } from '../client/list-all.js';
import { findTask } from '../client/lookups.js';
import { TRIGGER_NAMES, type TriggerName } from '../domain/enums.js';
import type { Task, TaskExecution } from '../domain/schema.js';
import { executionPhaseName, ExecutionPhaseName, firstLine, plural, reply } from './answers.js';
import type { McpContext } from './context.js';
import { daemonStatus, FileProblems, fileProblems, fileProblemsText } from './daemon-status.js';
import { executionOutcome, ExecutionOutcome, getExecution, waitForExecution } from './execution-outcome.js';
import { ANSWER_TAIL_LINES, MAX_TAIL_LINES } from './log-reading.js';
import { serviceNames, taskNames } from './names.js';
import { progressOf } from './progress.js';
import { triggerNames } from './service-answers.js';
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from './waiting.js';

const TaskItem = z.object({
  id: z.string(),
  reference: z.string().describe('the key of the task in automations.yaml'),
  name: z.string().optional(),
  command: z.string().optional(),
  dependsOn: z.array(z.string()).describe('the tasks and services it needs first (references)'),
  triggeredBy: z.array(z.string()),
  lastExecution: z
    .object({ id: z.string(), phase: ExecutionPhaseName, createdAt: z.string(), failure: z.string().optional() })
    .nullable()
    .describe('its latest execution, null if it never ran'),
});
type TaskItem = z.infer<typeof TaskItem>;

function taskLine(item: TaskItem): string {
  const last = item.lastExecution;
  const state = last === null ? 'never ran' : `last run ${last.phase} (execution ${last.id})${last.failure !== undefined ? `: ${last.failure}` : ''}`;
  return `${item.reference}: ${state}${item.dependsOn.length > 0 ? `; depends on ${item.dependsOn.join(', ')}` : ''}`;
}

export function registerTaskTools(server: McpServer, context: McpContext): void {
  server.registerTool(
    'list_tasks',
    {
      title: 'List tasks',
      description: 'The tasks of the workspace: command, dependencies, triggers, and the phase of the latest execution with why it failed (one line).',
      inputSchema: { references: z.array(z.string()).optional().describe('only these tasks (references)') },
      outputSchema: { tasks: z.array(TaskItem), automationsFile: FileProblems.optional() },
      annotations: { readOnlyHint: true },
    },
    async ({ references }) => {
      const client = await context.daemon();
      const tasks = await listAll<Task>(client.call, 'ListTasks', 'tasks', references !== undefined ? { filter: { references } } : {});
      const executions = await listAll<TaskExecution>(client.call, 'ListTaskExecutions', 'taskExecutions');
      const names = new Map([...(await serviceNames(client)), ...(await taskNames(client))]);
      const latest = new Map<string, TaskExecution>();
      // Newest first: the first one seen of each task is its latest.
      for (const execution of executions) if (!latest.has(execution.metadata.taskId)) latest.set(execution.metadata.taskId, execution);
      const items: TaskItem[] = tasks.map((task) => {
        const last = latest.get(task.id);
        const failure = firstLine(last?.status.failureMessage);
        return {
          id: task.id,
          reference: task.metadata.reference ?? task.id,
          ...(task.metadata.name !== undefined && task.metadata.name !== '' ? { name: task.metadata.name } : {}),
          ...(task.spec.command !== undefined ? { command: task.spec.command } : {}),
          dependsOn: task.dependsOn.map((id) => names.get(id) ?? id),
          triggeredBy: triggerNames(task.metadata.triggeredBy),
          lastExecution:
            last === undefined
              ? null
              : { id: last.id, phase: executionPhaseName(last.status.phase), createdAt: last.metadata.createdAt, ...(failure !== undefined ? { failure } : {}) },
        };
      });
      const problems = fileProblems(await daemonStatus(client));
      const text = (items.length === 0 ? 'No tasks' : items.map(taskLine).join('\n')) + fileProblemsText(problems);
      return reply(text, { tasks: items, ...(problems !== undefined ? { automationsFile: problems } : {}) });
    },
  );

  server.registerTool(
    'run_task',
    {
      title: 'Run a task',
      description:
        'Runs a task (and what it depends on) as a new execution. By default waits until it ends and answers with its outcome, exit code and the tail of its output; a task that failed is an answer, not an error.',
      inputSchema: {
        task: z.string().min(1).describe('the task: its reference (its key in automations.yaml) or its id'),
        wait: z.boolean().default(true).describe('wait until it ends, at most timeoutSeconds'),
        timeoutSeconds: z
          .number()
          .min(0)
          .max(MAX_WAIT_SECONDS)
          .default(DEFAULT_WAIT_SECONDS)
          .describe('how long to wait; the answer then says it still runs, with its execution id, and it goes on running'),
        tailLines: z.number().int().min(0).max(MAX_TAIL_LINES).default(ANSWER_TAIL_LINES).describe('how many of the last lines of its output to include'),
      },
      outputSchema: ExecutionOutcome,
    },
    async ({ task: name, wait, timeoutSeconds, tailLines }, extra) => {
      const client = await context.daemon();
      const task = await findTask(client, name);
      const { taskExecution } = await client.call<{ taskExecution: TaskExecution }>('StartTask', { id: task.id });
      context.resourcesChanged();
      const names = await taskNames(client);
      if (!wait) return executionOutcome(client, await getExecution(client, taskExecution.id), { waited: false, waitedMs: 0, tail: tailLines, taskNames: names });
      const signal = AbortSignal.any([extra.signal, context.closed]);
      const waited = await waitForExecution(client, taskExecution.id, { timeoutMs: timeoutSeconds * 1000, signal, progress: progressOf(extra) });
      return executionOutcome(client, waited.done ? waited.value : waited.last, { waited: true, waitedMs: waited.waitedMs, tail: tailLines, taskNames: names });
    },
  );

  server.registerTool(
    'fire_trigger',
    {
      title: 'Fire triggers',
      description: 'Fires triggers as the environment would: every service that lists one starts, every task that lists one runs (each task once per firing).',
      inputSchema: { triggers: z.array(z.enum(TRIGGER_NAMES)).min(1).describe('the triggers to fire, e.g. ["manual"]') },
      outputSchema: {
        services: z.array(z.object({ id: z.string(), reference: z.string() })),
        executions: z.array(z.object({ id: z.string(), task: z.string() })),
      },
    },
    async ({ triggers }) => {
      const client = await context.daemon();
      const fired = await client.call<{ serviceIds: string[]; executionIds: string[] }>('FireTrigger', { triggers: triggers as TriggerName[] }, 'tend.v1.DaemonService');
      if (fired.executionIds.length > 0) context.resourcesChanged();
      const services = await serviceNames(client);
      const tasks = await taskNames(client);
      const executions = await Promise.all(fired.executionIds.map((id) => getExecution(client, id)));
      const answer = {
        services: fired.serviceIds.map((id) => ({ id, reference: services.get(id) ?? id })),
        executions: executions.map((execution) => ({ id: execution.id, task: tasks.get(execution.metadata.taskId) ?? execution.metadata.taskId })),
      };
      const lines = [`Fired ${triggers.join(', ')}: started ${plural(answer.services.length, 'service')} and ${plural(answer.executions.length, 'task')}`];
      lines.push(...answer.services.map((service) => `  service ${service.reference}`));
      lines.push(...answer.executions.map((execution) => `  task ${execution.task} (execution ${execution.id})`));
      return reply(lines.join('\n'), answer);
    },
  );
}
