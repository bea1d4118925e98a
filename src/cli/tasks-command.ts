import { Command } from 'commander';
import { resolveStateDir } from '../app/state-dir.js';
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import { oneLineCommand } from './daemon-facts.js';
import { CliError, connect, type ApiClient } from '../client/api-client.js';
import { sectionHeader } from '../client/log-items.js';
import { OutputFollower } from '../client/output-follower.js';
import { ResourceWatch } from '../client/resource-watch.js';
import { executionEnded } from './settle-wait.js';
import { Prefixes, stylesFor } from './styles.js';
import { listAll } from '../client/list-all.js';
import { findTask } from '../client/lookups.js';
import { stateDirOption, type StateDirOptions } from './options.js';
import { printJson } from './output.js';
import { printLog } from './services-command.js';
import { formatTable, shortEnum, terminalWidth } from './table.js';

/**
 * Runs a task and, with `wait`, streams its output as it runs (a step's lines under its name when
 * there are several), then its outcome. Output is followed until the log ends, not until the
 * phase says the execution ended: its other steps may still be writing.
 */
async function startTask(client: ApiClient, reference: string, options: { wait?: boolean; json?: boolean }): Promise<void> {
  const task = await findTask(client, reference);
  if (options.wait !== true) {
    const { taskExecution: execution } = await client.call<{ taskExecution: TaskExecution }>('StartTask', { id: task.id });
    if (options.json === true) return printJson(execution);
    process.stdout.write(`Started ${reference}: execution ${execution.id}\n`);
    return;
  }
  const watch = await ResourceWatch.start(client);
  try {
    const { taskExecution: started } = await client.call<{ taskExecution: TaskExecution }>('StartTask', { id: task.id });
    const steps = started.spec.plan.flatMap((group) => group.steps).length;
    const prefixes = new Prefixes(stylesFor(process.stdout), started.spec.plan.flatMap((group) => group.steps.map((step) => step.label)));
    const outputs = new OutputFollower(watch, {
      includeService: () => false,
      includeExecution: (execution) => execution.id === started.id,
      initial: () => 'all',
      onItem: (_source, item) => {
        if (options.json === true) return;
        if (item.kind !== 'line') process.stdout.write(`${prefixes.prefix(item.title)}${sectionHeader(item)}\n`);
        else process.stdout.write(`${steps > 1 && item.section !== null ? prefixes.prefix(item.section) : ''}${item.text}\n`);
      },
    }).start();
    await watch.refresh('execution', started.id);
    const execution = await watch.until(() => {
      const current = watch.executions.get(started.id);
      return current !== undefined && executionEnded(current) ? current : undefined;
    });
    await outputs.drained();
    outputs.stop();
    const last = watch.executions.get(started.id) ?? execution;
    if (options.json === true) printJson(last);
    else process.stdout.write(describeExecution(last, reference));
    if (last.status.phase !== 'TASK_EXECUTION_PHASE_SUCCEEDED') process.exitCode = 1;
  } finally {
    watch.close();
  }
}

export function tasksCommand(): Command {
  const tasks = new Command('tasks').description('list and start tasks, read the logs of their last run');

  stateDirOption(tasks.command('list').description('list the tasks'))
    .option('--json', 'print the tasks as JSON')
    .action(async (options: StateDirOptions & { json?: boolean }) => {
      const client = connect(resolveStateDir(options));
      const list = await listAll<Task>(client.call, 'ListTasks', 'tasks');
      if (options.json === true) return printJson(list);
      // What a task depends on may be tasks and services: their references, never ids.
      const services = await listAll<Service>(client.call, 'ListServices', 'services');
      const byId = new Map([...list, ...services].map((resource) => [resource.id, resource.metadata.reference ?? resource.id]));
      const rows = list.map((task) => [
        task.metadata.reference ?? '',
        oneLineCommand(task.spec.command ?? ''),
        task.dependsOn.map((id) => byId.get(id) ?? id).join(','),
      ]);
      process.stdout.write(`${formatTable(['TASK', 'COMMAND', 'DEPENDS ON'], rows, { maxWidth: terminalWidth(), shrink: 1 })}\n`);
    });

  stateDirOption(tasks.command('start <reference>').description('start a task (and its dependencies) as a new execution'))
    .option('--wait', 'wait until it ends; the exit code is 0 only if it succeeded')
    .option('--json', 'print the execution as JSON')
    .action(async (reference: string, options: StateDirOptions & { wait?: boolean; json?: boolean }) =>
      startTask(connect(resolveStateDir(options)), reference, options),
    );

  stateDirOption(tasks.command('logs <reference>').description("print the output of a task's latest execution"))
    .option('-f, --follow', 'keep printing while it runs')
    .action(async (reference: string, options: StateDirOptions & { follow?: boolean }) => {
      const client = connect(resolveStateDir(options));
      const task = await findTask(client, reference);
      const { taskExecutions } = await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', {
        filter: { taskIds: [task.id] },
        pagination: { pageSize: 1 },
      });
      const url = taskExecutions?.[0]?.status.logUrl;
      if (url === undefined) throw new CliError(`Task "${reference}" has not run yet: it has no log`);
      await printLog(client, url, { ...options, sections: true });
    });

  return tasks;
}

export function describeExecution(execution: TaskExecution, reference: string): string {
  const labels = new Map(execution.spec.plan.flatMap((group) => group.steps.map((step) => [step.id, step.label] as const)));
  const lines = [`${reference}: ${shortEnum(execution.status.phase, 'TASK_EXECUTION_PHASE_')}`];
  for (const step of execution.status.steps) {
    lines.push(`  ${labels.get(step.id) ?? step.id}: ${shortEnum(step.phase, 'TASK_EXECUTION_PHASE_')}`);
    if (step.failureMessage !== undefined) lines.push(...step.failureMessage.split('\n').map((line) => `    ${line}`));
  }
  return `${lines.join('\n')}\n`;
}

export function executionsCommand(): Command {
  const executions = new Command('executions').description('the history of task executions');

  stateDirOption(executions.command('list').description('list executions, newest first'))
    .option('--json', 'print them as JSON')
    .action(async (options: StateDirOptions & { json?: boolean }) => {
      const client = connect(resolveStateDir(options));
      const list = await listAll<TaskExecution>(client.call, 'ListTaskExecutions', 'taskExecutions');
      if (options.json === true) return printJson(list);
      const tasks = await listAll<Task>(client.call, 'ListTasks', 'tasks');
      const names = new Map(tasks.map((task) => [task.id, task.metadata.reference ?? task.id]));
      const rows = list.map((execution) => [
        execution.id,
        names.get(execution.metadata.taskId) ?? execution.metadata.taskId,
        shortEnum(execution.status.phase, 'TASK_EXECUTION_PHASE_'),
        execution.metadata.startedBy,
        execution.metadata.createdAt,
      ]);
      process.stdout.write(`${formatTable(['EXECUTION', 'TASK', 'PHASE', 'STARTED BY', 'CREATED'], rows)}\n`);
    });

  stateDirOption(executions.command('show <id>').description('show an execution, its steps and why they failed'))
    .option('--json', 'print it as JSON')
    .action(async (id: string, options: StateDirOptions & { json?: boolean }) => {
      const client = connect(resolveStateDir(options));
      const { taskExecution } = await client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id });
      if (options.json === true) return printJson(taskExecution);
      const main = taskExecution.spec.plan.flatMap((group) => group.steps).find((step) => step.id === taskExecution.metadata.taskId);
      process.stdout.write(describeExecution(taskExecution, main?.label ?? taskExecution.metadata.taskId));
    });

  stateDirOption(executions.command('stop <id>').description('stop a running execution'))
    .action(async (id: string, options: StateDirOptions) => {
      const client = connect(resolveStateDir(options));
      await client.call('StopTaskExecution', { id });
      process.stdout.write(`Stopping ${id}\n`);
    });

  return executions;
}
