/**
 * `tend up`, `tend down`, `tend trigger`, `tend prebuild`: the everyday commands. `up` starts a
 * daemon for the workspace (or uses the running one) and fires the start triggers it has not
 * fired yet; on a daemon that already fired them it attaches instead: it shows the current state
 * and new output, starts nothing again, and `--retrigger` fires them on purpose. Like
 * `docker compose up`, it then shows each service's phase and everyone's output prefixed by name.
 */
import { readDaemonInfo, resolveStateDir } from '../app/state-dir.js';
import { hasTrigger } from '../config/convert.js';
import type { Service, Task, TaskExecution, TriggerName } from '../domain/schema.js';
import { CliError, connect, type ApiClient } from '../client/api-client.js';
import { describeOrphans, findOrphans, stopOrphans } from '../app/orphans.js';
import { ensureDaemon, stopDaemon, type DaemonProcessOptions } from './daemon-process.js';

export { ensureDaemon };
import { listAll } from '../client/list-all.js';
import { describeWait, getStatus, waitKey, type DaemonStatus } from './status-command.js';
import { describeExecution } from './tasks-command.js';
import { shortEnum } from './table.js';
import { followUp, type Followed } from './up-follow.js';

export interface UpOptions extends DaemonProcessOptions {
  detach?: boolean;
  retrigger?: boolean;
}

/** What `tend up` fires (SPEC §5). */
export const START_TRIGGERS: readonly TriggerName[] = ['postEnvironmentStart', 'postDevcontainerStart'];

const POLL_MS = 200;
/** How often the waiting line is repeated while nothing about the wait changed. */
const WAIT_REMINDER_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface FireResult {
  serviceIds: string[];
  alreadyRunningServiceIds?: string[];
  executionIds: string[];
}

export function fire(client: ApiClient, triggers: readonly TriggerName[]): Promise<FireResult> {
  return client.call('FireTrigger', { triggers }, 'tend.v1.DaemonService');
}

function failed(execution: TaskExecution): boolean {
  return execution.status.phase !== 'TASK_EXECUTION_PHASE_SUCCEEDED';
}

function settledService(service: Service): boolean {
  const phase = service.status.phase;
  return phase === 'SERVICE_PHASE_RUNNING' || phase === 'SERVICE_PHASE_FAILED' || phase === 'SERVICE_PHASE_STOPPED';
}

/** Ended, steps and all (FAILED comes as soon as a step fails, while others still run). */
function finishedExecution(execution: TaskExecution): boolean {
  return execution.metadata.completedAt !== undefined;
}

/**
 * Waits until every service is past STARTING and every execution has ended; meanwhile, what a
 * STARTING service waits for and what its last probe said, whenever that changes (never silence).
 */
async function waitSettled(client: ApiClient, fired: Followed) {
  const said = new Map<string, { key: string; at: number }>();
  for (;;) {
    const services = await Promise.all(fired.serviceIds.map(async (id) => (await client.call<{ service: Service }>('GetService', { id })).service));
    const executions = await Promise.all(
      fired.executionIds.map(async (id) => (await client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id })).taskExecution),
    );
    if (services.every(settledService) && executions.every(finishedExecution)) return { services, executions };
    if (services.some((service) => service.status.phase === 'SERVICE_PHASE_STARTING')) {
      const tracked = new Set(fired.serviceIds);
      for (const entry of (await getStatus(client)).readiness ?? []) {
        if (!tracked.has(entry.serviceId)) continue;
        const key = waitKey(entry);
        const last = said.get(entry.serviceId);
        if (last !== undefined && last.key === key && Date.now() - last.at < WAIT_REMINDER_MS) continue;
        said.set(entry.serviceId, { key, at: Date.now() });
        process.stdout.write(`tend: service ${entry.service}: ${describeWait(entry)}\n`);
      }
    }
    await sleep(POLL_MS);
  }
}

function checkFile(status: DaemonStatus): void {
  const problems = status.automationsFile?.problems ?? [];
  if (problems.length > 0) throw new CliError(`The automations file has problems:\n${problems.join('\n')}`);
}

function report(services: Service[], executions: TaskExecution[], names: Map<string, string>): { ok: boolean; text: string } {
  const lines: string[] = [];
  let ok = true;
  for (const service of services) {
    const phase = shortEnum(service.status.phase, 'SERVICE_PHASE_');
    lines.push(`service ${service.metadata.reference}: ${phase}`);
    if (service.status.phase !== 'SERVICE_PHASE_RUNNING') {
      ok = false;
      if (service.status.failureMessage !== undefined) lines.push(...service.status.failureMessage.split('\n').map((line) => `    ${line}`));
    }
  }
  for (const execution of executions) {
    const reference = names.get(execution.metadata.taskId) ?? execution.metadata.taskId;
    lines.push(`task ${describeExecution(execution, reference).trimEnd()}`);
    if (failed(execution)) ok = false;
  }
  return { ok, text: `${lines.join('\n')}\n` };
}

async function taskNames(client: ApiClient): Promise<Map<string, string>> {
  const tasks = await listAll<Task>(client.call, 'ListTasks', 'tasks');
  return new Map(tasks.map((task) => [task.id, task.metadata.reference ?? task.id]));
}

/** On attach: the services the start triggers name, and the latest execution of each task they name. */
async function startTriggered(client: ApiClient): Promise<Followed> {
  const services = await listAll<Service>(client.call, 'ListServices', 'services');
  const tasks = await listAll<Task>(client.call, 'ListTasks', 'tasks');
  const executionIds: string[] = [];
  for (const task of tasks.filter((candidate) => hasTrigger(candidate.metadata.triggeredBy, START_TRIGGERS))) {
    const { taskExecutions } = await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', {
      filter: { taskIds: [task.id] },
      pagination: { pageSize: 1 },
    });
    if (taskExecutions?.[0] !== undefined) executionIds.push(taskExecutions[0].id);
  }
  const serviceIds = services.filter((service) => hasTrigger(service.metadata.triggeredBy, START_TRIGGERS)).map((service) => service.id);
  return { serviceIds, executionIds };
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

export async function runUp(options: UpOptions): Promise<void> {
  const { client, started } = await ensureDaemon(options);
  let status: DaemonStatus;
  try {
    status = await getStatus(client);
    checkFile(status);
  } catch (error) {
    if (started) await stopDaemon(client.info);
    throw error;
  }
  const where = `${client.info.url} (state in ${client.stateDir})`;
  const unfired = START_TRIGGERS.filter((name) => !(status.firedTriggers ?? []).includes(name));
  const triggers = options.retrigger === true ? START_TRIGGERS : unfired;
  let followed: Followed;
  if (triggers.length === 0) {
    followed = await startTriggered(client);
    process.stdout.write(
      `tend: attached to the running daemon at ${where}: its start triggers already fired, so nothing is started again ` +
        `(\`tend up --retrigger\` fires them again); ${plural(followed.serviceIds.length, 'service')}, ${plural(followed.executionIds.length, 'task')}\n`,
    );
  } else {
    const fired = await fire(client, triggers);
    const already = fired.alreadyRunningServiceIds ?? [];
    const startedServices = fired.serviceIds.length - already.length;
    const note = already.length === 0 ? '' : ` (${plural(already.length, 'service')} already running)`;
    process.stdout.write(`tend: ${where}; fired ${triggers.join(', ')}: started ${startedServices} services and ${fired.executionIds.length} tasks${note}\n`);
    followed = fired;
  }
  if (options.detach === true) {
    const { services, executions } = await waitSettled(client, followed);
    const { ok, text } = report(services, executions, await taskNames(client));
    process.stdout.write(text);
    if (!ok) process.exitCode = 1;
    return;
  }
  await followUp(client, followed, await taskNames(client), { attached: triggers.length === 0 });
}

/** How long the processes a dead daemon left get between SIGTERM and SIGKILL from `tend down`. */
const ORPHAN_STOP_TIMEOUT_MS = 10_000;

export async function runDown(options: { stateDir?: string; workspace?: string }): Promise<void> {
  const stateDir = resolveStateDir(options);
  const info = readDaemonInfo(stateDir);
  if (info === undefined) {
    const orphans = findOrphans(stateDir);
    if (orphans.length === 0) {
      process.stdout.write(`No tend daemon is running for ${stateDir}\n`);
      return;
    }
    process.stdout.write(`No tend daemon is running for ${stateDir}, but ${describeOrphans(orphans)} it left still run: stopping them\n`);
    await stopOrphans(orphans, ORPHAN_STOP_TIMEOUT_MS);
    return;
  }
  process.stdout.write(`Stopping the tend daemon ${info.pid} and everything it runs\n`);
  await stopDaemon(info);
}

export async function runTrigger(names: TriggerName[], options: { stateDir?: string; workspace?: string }): Promise<void> {
  const client = connect(resolveStateDir(options));
  const fired = await fire(client, names);
  const already = fired.alreadyRunningServiceIds ?? [];
  const note = already.length === 0 ? '' : ` (${plural(already.length, 'service')} already running)`;
  process.stdout.write(`Fired ${names.join(', ')}: started ${fired.serviceIds.length - already.length} services and ${fired.executionIds.length} tasks${note}\n`);
}

/**
 * `tend prebuild`: the prebuild automations, then the beforeSnapshot tasks, to completion. Fails
 * when a task with prebuildRequiresSuccess did not succeed.
 */
export async function runPrebuild(options: UpOptions): Promise<void> {
  const { client, started } = await ensureDaemon(options);
  try {
    checkFile(await getStatus(client));
    const names = await taskNames(client);
    const prebuild = await waitSettled(client, await fire(client, ['prebuild']));
    const snapshot = await waitSettled(client, await fire(client, ['beforeSnapshot']));
    const executions = [...prebuild.executions, ...snapshot.executions];
    process.stdout.write(report(prebuild.services, executions, names).text);
    const tasks = await listAll<Task>(client.call, 'ListTasks', 'tasks');
    const required = new Set(tasks.filter((task) => task.spec.prebuildRequiresSuccess === true).map((task) => task.id));
    const broken = executions.filter((execution) => required.has(execution.metadata.taskId) && failed(execution));
    if (broken.length > 0) {
      process.stdout.write(`prebuild failed: ${broken.map((execution) => `"${names.get(execution.metadata.taskId)}"`).join(', ')} must succeed (prebuildRequiresSuccess)\n`);
      process.exitCode = 1;
    }
  } finally {
    if (started) await stopDaemon(client.info);
  }
}
