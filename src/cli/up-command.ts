/**
 * `tend up`, `tend down`, `tend trigger`, `tend prebuild`, `tend status`: the everyday commands.
 * `up` starts a daemon for the workspace (or uses the running one), fires the start triggers and,
 * like `docker compose up`, shows each service's phase and everyone's output prefixed by name.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { findAutomationsFile } from '../config/load-file.js';
import { findOrphans, stopOrphans } from '../app/orphans.js';
import { readDaemonInfo, resolveStateDir, stateFile, type DaemonInfo } from '../app/state-dir.js';
import type { Service, Task, TaskExecution, TriggerName } from '../domain/schema.js';
import { CliError, connect, type ApiClient } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { describeExecution } from './tasks-command.js';
import { shortEnum } from './table.js';

export interface UpOptions {
  stateDir?: string;
  workspace?: string;
  file?: string;
  detach?: boolean;
  stopTimeout?: string;
}

const POLL_MS = 200;
/** What `tend up` fires on the daemon. */
export const START_TRIGGERS: readonly TriggerName[] = ['postEnvironmentStart', 'postDevcontainerStart'];
const DAEMON_START_TIMEOUT_MS = 15_000;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface DaemonStatus {
  automationsFile: { path: string; problems: string[] } | null;
  mode?: string;
  controlPlane?: { url: string; connected: boolean; lastReportAt: string | null; outboxDepth: number; lastError: string | null } | null;
}

/** The workspace's daemon: the running one, or a new one started in the background. */
export async function ensureDaemon(options: UpOptions): Promise<{ client: ApiClient; started: boolean; stateDir: string }> {
  const workspace = resolve(options.workspace ?? process.cwd());
  const stateDir = resolveStateDir({ ...options, workspace });
  if (readDaemonInfo(stateDir) !== undefined) return { client: connect(stateDir), started: false, stateDir };
  const file = options.file ?? findAutomationsFile(workspace);
  if (file === undefined) {
    throw new CliError(`No automations file in ${workspace}: create .gitpod/automations.yaml, or give --file`);
  }
  const cli = resolve(import.meta.dirname, 'main.js');
  const args = [cli, 'daemon', '--workspace', workspace, '--state-dir', stateDir, '--file', resolve(file)];
  if (options.stopTimeout !== undefined) args.push('--stop-timeout', options.stopTimeout);
  const logPath = stateFile.daemonLog(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const out = openSync(logPath, 'a', 0o600);
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, TEND_LOG_LEVEL: process.env.TEND_LOG_LEVEL ?? 'info' } });
  closeSync(out);
  child.unref();
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  while (readDaemonInfo(stateDir) === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-10).join('\n') : '';
      throw new CliError(`The tend daemon did not start (its log is ${logPath}):\n${log}`);
    }
    await sleep(20);
  }
  return { client: connect(stateDir), started: true, stateDir };
}

function daemonCall<T>(client: ApiClient, method: string, body: unknown): Promise<T> {
  return client.call<T>(method, body, 'tend.v1.DaemonService');
}

export async function fire(client: ApiClient, triggers: readonly TriggerName[]): Promise<{ serviceIds: string[]; executionIds: string[] }> {
  return daemonCall(client, 'FireTrigger', { triggers });
}

/** Stops the daemon (it stops everything by the stop rules) and waits until it has exited. */
async function stopDaemon(info: DaemonInfo): Promise<void> {
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (;;) {
    try {
      process.kill(info.pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
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

/** Waits until every service is past STARTING and every execution has ended. */
async function waitSettled(client: ApiClient, fired: { serviceIds: string[]; executionIds: string[] }) {
  for (;;) {
    const services = await Promise.all(fired.serviceIds.map(async (id) => (await client.call<{ service: Service }>('GetService', { id })).service));
    const executions = await Promise.all(
      fired.executionIds.map(async (id) => (await client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id })).taskExecution),
    );
    if (services.every(settledService) && executions.every(finishedExecution)) return { services, executions };
    await sleep(POLL_MS);
  }
}

async function checkFile(client: ApiClient): Promise<void> {
  const status = await daemonCall<DaemonStatus>(client, 'GetStatus', {});
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

export async function runUp(options: UpOptions): Promise<void> {
  const { client, started } = await ensureDaemon(options);
  try {
    await checkFile(client);
  } catch (error) {
    if (started) await stopDaemon(client.info);
    throw error;
  }
  const fired = await fire(client, START_TRIGGERS);
  process.stdout.write(`tend: ${client.info.url} (state in ${client.stateDir}); started ${fired.serviceIds.length} services and ${fired.executionIds.length} tasks\n`);
  if (options.detach === true) {
    const { services, executions } = await waitSettled(client, fired);
    const { ok, text } = report(services, executions, await taskNames(client));
    process.stdout.write(text);
    if (!ok) process.exitCode = 1;
    return;
  }
  await followUp(client, fired);
}

/** Foreground: phase changes and everyone's output, prefixed by name, until Ctrl-C stops it all. */
async function followUp(client: ApiClient, fired: { serviceIds: string[]; executionIds: string[] }): Promise<void> {
  const color = process.stdout.isTTY === true;
  const palette = [36, 33, 32, 35, 34, 31];
  const colorOf = new Map<string, number>();
  const prefix = (name: string): string => {
    if (!colorOf.has(name)) colorOf.set(name, palette[colorOf.size % palette.length]!);
    const label = `${name.padEnd(12)} | `;
    return color ? `\u001b[${colorOf.get(name)}m${label}\u001b[0m` : label;
  };
  const followed = new Set<string>();
  const follow = (url: string, name: string): void => {
    if (followed.has(url)) return;
    followed.add(url);
    void (async () => {
      const response = await client.fetchLog(url, { follow: 'true' }).catch(() => undefined);
      if (response?.body == null) return;
      let section = name;
      let pending = '';
      for await (const chunk of response.body) {
        const text = pending + Buffer.from(chunk as Uint8Array).toString('utf8');
        const lines = text.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const create = /^\[section-create\] (\{.*\})$/.exec(line);
          if (create !== null) {
            section = (JSON.parse(create[1]!) as { title: string }).title;
            continue;
          }
          if (line.startsWith('[section-end] ')) continue;
          process.stdout.write(`${prefix(section)}${line}\n`);
        }
      }
      if (pending !== '') process.stdout.write(`${prefix(section)}${pending}\n`);
    })();
  };

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('tend: stopping everything (Ctrl-C again does not hurry it: the stop rules apply)\n');
    void stopDaemon(client.info).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const phases = new Map<string, string>();
  const names = await taskNames(client);
  while (!stopping) {
    for (const id of fired.serviceIds) {
      const service = (await client.call<{ service: Service }>('GetService', { id }).catch(() => undefined))?.service;
      if (service === undefined) continue;
      const name = service.metadata.reference ?? id;
      const phase = shortEnum(service.status.phase, 'SERVICE_PHASE_');
      if (phases.get(id) !== phase) {
        phases.set(id, phase);
        const why = service.status.phase === 'SERVICE_PHASE_FAILED' ? `: ${service.status.failureMessage?.split('\n')[0] ?? ''}` : '';
        process.stdout.write(`${prefix('tend')}service ${name}: ${phase}${why}\n`);
      }
      if (service.status.logUrl !== undefined) follow(service.status.logUrl, name);
    }
    for (const id of fired.executionIds) {
      const execution = (await client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id }).catch(() => undefined))?.taskExecution;
      if (execution === undefined) continue;
      const name = names.get(execution.metadata.taskId) ?? execution.metadata.taskId;
      const phase = shortEnum(execution.status.phase, 'TASK_EXECUTION_PHASE_');
      if (phases.get(id) !== phase) {
        phases.set(id, phase);
        const why = execution.status.failureMessage !== undefined ? `: ${execution.status.failureMessage.split('\n')[0]}` : '';
        process.stdout.write(`${prefix('tend')}task ${name}: ${phase}${why}\n`);
      }
      if (execution.status.logUrl !== undefined) follow(execution.status.logUrl, name);
    }
    await sleep(POLL_MS);
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
  await stopDaemon(info);
}

export async function runTrigger(names: TriggerName[], options: { stateDir?: string; workspace?: string }): Promise<void> {
  const client = connect(resolveStateDir(options));
  const fired = await fire(client, names);
  process.stdout.write(`Fired ${names.join(', ')}: started ${fired.serviceIds.length} services and ${fired.executionIds.length} tasks\n`);
}

/**
 * `tend prebuild`: the prebuild automations, then the beforeSnapshot tasks, to completion. Fails
 * when a task with prebuildRequiresSuccess did not succeed.
 */
export async function runPrebuild(options: UpOptions): Promise<void> {
  const { client, started } = await ensureDaemon(options);
  try {
    await checkFile(client);
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

function describeOrphans(orphans: readonly { pid: number }[]): string {
  const pids = orphans.map((orphan) => orphan.pid);
  return `${pids.length} process${pids.length === 1 ? '' : 'es'} (pid ${pids.slice(0, 10).join(', ')}${pids.length > 10 ? ', …' : ''})`;
}

export async function runStatus(options: { stateDir?: string; workspace?: string; json?: boolean }): Promise<void> {
  const stateDir = resolveStateDir(options);
  if (readDaemonInfo(stateDir) === undefined) {
    const orphans = findOrphans(stateDir);
    if (orphans.length > 0) {
      throw new CliError(`No tend daemon is running for ${stateDir}, but ${describeOrphans(orphans)} a previous daemon started still run: \`tend down\` stops them, \`tend up\` takes them over`);
    }
  }
  const client = connect(stateDir);
  const status = await daemonCall<DaemonStatus & Record<string, unknown>>(client, 'GetStatus', {});
  const services = await listAll<Service>(client.call, 'ListServices', 'services');
  const executions = (await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', { pagination: { pageSize: 100 } })).taskExecutions ?? [];
  const problems = status.automationsFile?.problems ?? [];
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({ ...status, services, taskExecutions: executions }, null, 2)}\n`);
  } else {
    const lines = [`daemon: ${client.info.url} (pid ${client.info.pid}, environment ${client.info.environmentId})`];
    const file = status.automationsFile;
    lines.push(file === null ? 'automations file: none' : `automations file: ${file.path}: ${problems.length === 0 ? 'ok' : `${problems.length} problem(s), the last good configuration keeps running`}`);
    lines.push(...problems.map((problem) => `  ${problem}`));
    if (status.mode === 'serve-only') lines.push('mode: serve-only (a control plane: runners run the services and report their status)');
    const upstream = status.controlPlane;
    if (upstream !== undefined && upstream !== null) {
      lines.push(
        `control plane: ${upstream.url}: ${upstream.connected ? 'connected' : 'not connected'}, last report ${upstream.lastReportAt ?? 'never'}, outbox ${upstream.outboxDepth} pending`,
      );
      if (upstream.lastError !== null) lines.push(`  last error: ${upstream.lastError}`);
    }
    for (const service of services) lines.push(`service ${service.metadata.reference}: ${shortEnum(service.status.phase, 'SERVICE_PHASE_')}`);
    const running = executions.filter((execution) => !finishedExecution(execution)).length;
    lines.push(`task executions: ${executions.length} in history, ${running} running`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (problems.length > 0) process.exitCode = 1;
}
