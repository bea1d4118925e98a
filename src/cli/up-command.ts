/**
 * `tend up`, `tend down`, `tend trigger`, `tend prebuild`: the everyday commands. `up` starts a
 * daemon for the workspace (or uses the running one) and fires the start triggers it has not
 * fired yet; on a daemon that already fired them it attaches instead: it shows the current state
 * and new output, starts nothing again, and `--retrigger` fires them on purpose. `tend up NAME…`
 * starts only those services and tasks (a task's execution brings what it depends on). Then, on
 * a terminal, the TUI (`tui/`); elsewhere, or with `--no-tui`, the prefixed stream of
 * `up-follow.ts`; with `--detach`, the wait of `settle-wait.ts` and a report.
 */
import { readDaemonInfo, resolveStateDir } from '../app/state-dir.js';
import { hasTrigger } from '../config/convert.js';
import { didYouMean } from '../config/did-you-mean.js';
import type { Service, Task, TaskExecution, TriggerName } from '../domain/schema.js';
import { parseDuration } from '../domain/duration.js';
import { CliError, connect, type ApiClient } from '../client/api-client.js';
import { ResourceWatch } from '../client/resource-watch.js';
import { describeOrphans, findOrphans, stopOrphans } from '../app/orphans.js';
import { ensureDaemon, stopDaemon, type DaemonProcessOptions } from './daemon-process.js';
import { getStatus, type DaemonStatus } from './daemon-facts.js';
import { waitSettled, type WaitTargets } from './settle-wait.js';
import { describeExecution } from './tasks-command.js';
import { shortEnum } from './table.js';
import { followPlain } from './up-follow.js';
import { Scope } from './up-scope.js';

export { ensureDaemon };

export interface UpOptions extends DaemonProcessOptions {
  detach?: boolean;
  retrigger?: boolean;
  /** false with `--no-tui`. */
  tui?: boolean;
  waitTimeout?: string;
}

/** What `tend up` fires (SPEC §5). */
export const START_TRIGGERS: readonly TriggerName[] = ['postEnvironmentStart', 'postDevcontainerStart'];

interface FireResult {
  serviceIds: string[];
  alreadyRunningServiceIds?: string[];
  executionIds: string[];
}

export function fire(client: ApiClient, triggers: readonly TriggerName[]): Promise<FireResult> {
  return client.call('FireTrigger', { triggers }, 'tend.v1.DaemonService');
}

/** Fires, then reads the services it started, so a wait never judges them by what they were before. */
async function fireWatched(client: ApiClient, watch: ResourceWatch, triggers: readonly TriggerName[]): Promise<FireResult> {
  const fired = await fire(client, triggers);
  await Promise.all(fired.serviceIds.map((id) => watch.refresh('service', id).catch(() => {})));
  return fired;
}

function failed(execution: TaskExecution): boolean {
  return execution.status.phase !== 'TASK_EXECUTION_PHASE_SUCCEEDED';
}

function checkFile(status: DaemonStatus): void {
  const problems = status.automationsFile?.problems ?? [];
  if (problems.length > 0) throw new CliError(`The automations file has problems:\n${problems.join('\n')}`);
}

function report(services: Service[], executions: TaskExecution[], watch: ResourceWatch): { ok: boolean; text: string } {
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
    const reference = watch.tasks.get(execution.metadata.taskId)?.metadata.reference ?? execution.metadata.taskId;
    lines.push(`task ${describeExecution(execution, reference).trimEnd()}`);
    if (failed(execution)) ok = false;
  }
  return { ok, text: `${lines.join('\n')}\n` };
}

/** On attach: the services the start triggers name, and the latest execution of each task they name. */
function startTriggered(watch: ResourceWatch): WaitTargets {
  const serviceIds = [...watch.services.values()].filter((service) => hasTrigger(service.metadata.triggeredBy, START_TRIGGERS)).map((service) => service.id);
  const executionIds = [...watch.tasks.values()]
    .filter((task) => hasTrigger(task.metadata.triggeredBy, START_TRIGGERS))
    .flatMap((task) => watch.latestExecution(task.id)?.id ?? []);
  return { serviceIds, executionIds };
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** `tend up NAME…`: starts those services and tasks; what the tasks' plans hold is theirs too. */
async function startNamed(client: ApiClient, watch: ResourceWatch, names: readonly string[]): Promise<{ scope: Scope; targets: WaitTargets; said: string }> {
  const services = [...watch.services.values()];
  const tasks = [...watch.tasks.values()];
  const known = [...services, ...tasks].map((resource) => resource.metadata.reference ?? resource.id);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new CliError(`No service or task ${unknown.map((name) => `"${name}"${didYouMean(name, known)}`).join(', ')}: \`tend ps\` lists them all`);
  }
  const namedServices = services.filter((service) => names.includes(service.metadata.reference ?? ''));
  const namedTasks = tasks.filter((task) => names.includes(task.metadata.reference ?? ''));
  for (const service of namedServices) {
    await client.call('StartService', { id: service.id });
    await watch.refresh('service', service.id);
  }
  const executions: TaskExecution[] = [];
  for (const task of namedTasks) executions.push((await client.call<{ taskExecution: TaskExecution }>('StartTask', { id: task.id })).taskExecution);
  const planServices = executions.flatMap((execution) => execution.spec.plan.flatMap((group) => group.steps.flatMap((step) => step.serviceId ?? [])));
  const serviceIds = [...new Set([...namedServices.map((service) => service.id), ...planServices])];
  const started = { serviceIds, executionIds: executions.map((execution) => execution.id) };
  const said = `started ${plural(namedServices.length, 'service')} and ${plural(executions.length, 'task')} (${names.join(', ')})`;
  return { scope: Scope.named(serviceIds, namedTasks.map((task) => task.id), started), targets: started, said };
}

function waitTimeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new CliError(`Invalid --wait-timeout: ${parsed.message}`, 2);
  return parsed.ms;
}

export async function runUp(names: readonly string[], options: UpOptions): Promise<void> {
  const timeoutMs = waitTimeoutMs(options.waitTimeout);
  if (timeoutMs !== undefined && options.detach !== true) throw new CliError('--wait-timeout goes with --detach: `tend up --detach --wait-timeout 2m`', 2);
  const { client, started } = await ensureDaemon(options);
  let status: DaemonStatus;
  let watch: ResourceWatch;
  try {
    status = await getStatus(client);
    checkFile(status);
    watch = await ResourceWatch.start(client);
  } catch (error) {
    if (started) await stopDaemon(client.stateDir, client.info);
    throw error;
  }
  const where = `${client.info.url} (state in ${client.stateDir})`;
  const unfired = START_TRIGGERS.filter((name) => !(status.firedTriggers ?? []).includes(name));
  const triggers = options.retrigger === true ? START_TRIGGERS : unfired;
  let scope: Scope;
  let targets: WaitTargets;
  const attached = names.length === 0 && triggers.length === 0;
  if (names.length > 0) {
    let named: Awaited<ReturnType<typeof startNamed>>;
    try {
      named = await startNamed(client, watch, names);
    } catch (error) {
      watch.close();
      if (started) await stopDaemon(client.stateDir, client.info);
      throw error;
    }
    ({ scope, targets } = named);
    process.stdout.write(`tend: ${where}; ${named.said}\n`);
  } else if (attached) {
    targets = startTriggered(watch);
    scope = Scope.everything({ serviceIds: [], executionIds: [] });
    process.stdout.write(
      `tend: attached to the running daemon at ${where}: its start triggers already fired, so nothing is started again ` +
        `(\`tend up --retrigger\` fires them again); ${plural(targets.serviceIds.length, 'service')}, ${plural(targets.executionIds.length, 'task')}\n`,
    );
  } else {
    const fired = await fireWatched(client, watch, triggers);
    const already = fired.alreadyRunningServiceIds ?? [];
    const note = already.length === 0 ? '' : ` (${plural(already.length, 'service')} already running)`;
    process.stdout.write(`tend: ${where}; fired ${triggers.join(', ')}: started ${fired.serviceIds.length - already.length} services and ${fired.executionIds.length} tasks${note}\n`);
    targets = { serviceIds: fired.serviceIds, executionIds: fired.executionIds };
    scope = Scope.everything(targets);
  }
  if (options.detach === true) {
    const settled = await waitSettled(client, watch, targets, { timeoutMs });
    watch.close();
    if (settled.notReady.length > 0) {
      throw new CliError(`Timed out after ${options.waitTimeout} waiting for ${settled.notReady.join('; ')}; they go on in the background (\`tend status\`, \`tend logs -f\`)`);
    }
    const { ok, text } = report(settled.services, settled.executions, watch);
    process.stdout.write(text);
    if (!ok) process.exitCode = 1;
    return;
  }
  // A terminal that cannot place the cursor (TERM=dumb) gets the stream.
  const useTui = options.tui !== false && process.stdout.isTTY === true && process.stdin.isTTY === true && process.env.TERM !== 'dumb';
  if (useTui) {
    const { runTui } = await import('./tui/tui-app.js');
    process.exitCode = await runTui(client, watch, scope, { attached });
  } else {
    process.exitCode = await followPlain(client, watch, scope, { attached });
  }
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
  await stopDaemon(stateDir, info);
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
  let watch: ResourceWatch | undefined;
  try {
    checkFile(await getStatus(client));
    watch = await ResourceWatch.start(client);
    const prebuild = await waitSettled(client, watch, await fireWatched(client, watch, ['prebuild']));
    const snapshot = await waitSettled(client, watch, await fireWatched(client, watch, ['beforeSnapshot']));
    const executions = [...prebuild.executions, ...snapshot.executions];
    process.stdout.write(report(prebuild.services, executions, watch).text);
    const required = new Set([...watch.tasks.values()].filter((task: Task) => task.spec.prebuildRequiresSuccess === true).map((task) => task.id));
    const broken = executions.filter((execution) => required.has(execution.metadata.taskId) && failed(execution));
    if (broken.length > 0) {
      const names = broken.map((execution) => `"${watch?.tasks.get(execution.metadata.taskId)?.metadata.reference ?? execution.metadata.taskId}"`);
      process.stdout.write(`prebuild failed: ${names.join(', ')} must succeed (prebuildRequiresSuccess)\n`);
      process.exitCode = 1;
    }
  } finally {
    watch?.close();
    if (started) await stopDaemon(client.stateDir, client.info);
  }
}
