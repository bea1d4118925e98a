/**
 * Runner mode against a real control plane: a serve-only tend on loopback, reached through a
 * fault proxy that records every status report and can play the control plane going away.
 * The runner runs real processes; what the control plane shows comes only from its reports.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Gitpod } from '@gitpod/sdk';
import { runCommand, runService } from '@gitpod/sdk/lib/automation';
import { memoryLogger, startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { Gitpod as GitpodClient } from '@gitpod/sdk';
import { checkReports, FaultProxy, recordHistory, type StatusHistory } from './helpers/fault-proxy.js';
import { createService, getService, pidAlive, readPidFile, waitPhase } from './helpers/services.js';
import { createTask, waitExecution } from './helpers/tasks.js';
import { runCli, spawnDaemon } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';
import { backoffDelay } from '../src/upstream/backoff.js';
import { UpstreamError } from '../src/upstream/connect-client.js';
import { Store } from '../src/store/store.js';

async function getExecutionVersion(td: TestDaemon, id: string): Promise<string> {
  return (await td.call('GetTaskExecution', { id })).body.taskExecution.status.statusVersion;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

const FAST_BACKOFF = { initialMs: 10, maxMs: 100 };

interface Pair {
  readonly cp: TestDaemon;
  readonly proxy: FaultProxy;
  readonly runner: TestDaemon;
  readonly logLines: string[];
  /** A directory for the fixtures' marker files. */
  readonly dir: string;
  /** Every status the runner had, per resource, in order. */
  readonly history: StatusHistory;
  /** The statusVersions the control plane gave, per resource, in order. */
  readonly cpVersions: Map<string, bigint[]>;
}

/** The control plane's own status versions of each resource, as it assigns them. */
function recordVersions(cp: TestDaemon): Map<string, bigint[]> {
  const versions = new Map<string, bigint[]>();
  const add = (id: string, version: string | undefined): void => {
    if (version !== undefined) versions.set(id, [...(versions.get(id) ?? []), BigInt(version)]);
  };
  cp.daemon.services.on('change', (kind, service) => kind === 'status' && add(service.id, service.status.statusVersion));
  cp.daemon.executions.on('execution', (kind, execution) => kind === 'status' && add(execution.id, execution.status.statusVersion));
  return versions;
}

const increasing = (versions: readonly bigint[]): boolean => versions.every((version, index) => index === 0 || version > versions[index - 1]!);

/** A status without its version (each side numbers its own). */
const withoutVersion = (status: any): unknown => {
  const { statusVersion: _version, ...rest } = status ?? {};
  return rest;
};

async function startControlPlane(): Promise<{ cp: TestDaemon; proxy: FaultProxy }> {
  const cp = await startTestDaemon({ serveOnly: true });
  const proxy = await new FaultProxy(cp.daemon.info.url).start();
  return { cp, proxy };
}

async function startPair(settings: { resyncMs?: number } = {}): Promise<Pair> {
  const { cp, proxy } = await startControlPlane();
  const cpVersions = recordVersions(cp);
  const { log, lines } = memoryLogger();
  const runner = await startTestDaemon({
    controlPlane: { url: proxy.url, token: cp.daemon.runnerToken!, backoff: FAST_BACKOFF, callTimeoutMs: 2000, ...settings },
    environmentId: cp.daemon.info.environmentId,
    log,
  });
  const history = recordHistory(runner.daemon);
  await waitFor(() => runner.daemon.controlPlane!.health().connected, { what: 'the runner to connect' });
  return { cp, proxy, runner, logLines: lines, dir: tempDir(), history, cpVersions };
}

async function startService(client: Gitpod, reference: string, commands: { start: string; ready?: string }): Promise<string> {
  const id = await createService(client, reference, commands);
  await client.environments.automations.services.start({ id });
  return id;
}

async function startTask(client: Gitpod, reference: string, command: string): Promise<string> {
  const taskId = await createTask(client, reference, command);
  const { taskExecution } = await client.environments.automations.tasks.start({ id: taskId });
  return taskExecution!.id!;
}

const waitUntilFile = (path: string) => `while [ ! -f ${path} ]; do sleep 0.01; done`;

async function daemonStatus(url: string, token: string): Promise<any> {
  const response = await fetch(`${url}/tend.v1.DaemonService/GetStatus`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  return response.json();
}

describe('runner mode', () => {
  it('runs the services and executions of the control plane and reports their phases in order', async () => {
    const { cp, proxy, runner, dir, history, cpVersions } = await startPair();
    const pidFile = join(dir, 'web.pid');
    // It stops once told to (the outbox keeps a resource's latest status only: a stop quicker than a
    // report would be reported as STOPPED alone).
    const release = join(dir, 'web.release');
    const serviceId = await startService(cp.client, 'web', {
      start: `trap '${waitUntilFile(release)}; exit 0' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05 & wait $!; done`,
      ready: 'true',
    });

    const upstream = await waitPhase(cp.client, serviceId, 'SERVICE_PHASE_RUNNING');
    const local = await getService(runner.client, serviceId);
    expect(local.status?.phase).toBe('SERVICE_PHASE_RUNNING');
    // What the control plane shows is the runner's status, its log included; the version is its own.
    expect(withoutVersion(upstream.status)).toEqual(withoutVersion(local.status));
    expect(upstream.status?.logUrl).toBe(local.status?.logUrl);
    expect(upstream.status?.logUrl?.startsWith(runner.daemon.info.url)).toBe(true);
    const pid = await readPidFile(pidFile);
    expect(pidAlive(pid)).toBe(true);
    // Logs stay with the runner: the control plane's CLI says where to read them.
    const logs = await runCli(['services', 'logs', 'web', '--state-dir', cp.stateDir]);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain(`kept by the runner at ${runner.daemon.info.url}`);

    const out = join(dir, 'task.out');
    const executionId = await startTask(cp.client, 'build', `echo built > ${out}`);
    const execution = await waitExecution(cp.client, executionId, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(readFileSync(out, 'utf8')).toBe('built\n');
    expect(execution.status.steps.map((step) => step.phase)).toEqual(['TASK_EXECUTION_PHASE_SUCCEEDED']);
    expect(execution.metadata.completedAt).toBeDefined();

    // Stopped upstream: the execution's step process is stopped here.
    const stepPid = join(dir, 'step.pid');
    const longId = await startTask(cp.client, 'long', `echo $$ > ${stepPid}; exec sleep 1000`);
    const longPid = await readPidFile(stepPid);
    await cp.client.environments.automations.tasks.executions.stop({ id: longId });
    await waitExecution(cp.client, longId, 'TASK_EXECUTION_PHASE_STOPPED');
    expect(pidAlive(longPid)).toBe(false);

    await cp.client.environments.automations.services.stop({ id: serviceId });
    await waitFor(() => proxy.delivered(serviceId).at(-1)?.phase === 'SERVICE_PHASE_STOPPING', { what: 'the STOPPING report answered' });
    writeFileSync(release, '');
    await waitPhase(cp.client, serviceId, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(pid)).toBe(false);

    // The control plane shows a report once it has applied it, a moment before its answer (after
    // its fsync) passes the proxy back.
    await waitFor(() => proxy.delivered(serviceId).at(-1)?.phase === 'SERVICE_PHASE_STOPPED', { what: 'the STOPPED report answered' });
    const phases = proxy.delivered(serviceId).map((report) => report.phase);
    expect(phases).toEqual(['SERVICE_PHASE_STARTING', 'SERVICE_PHASE_RUNNING', 'SERVICE_PHASE_STOPPING', 'SERVICE_PHASE_STOPPED']);
    // In the reference's shape (no statusVersion, nothing else), each a status the runner had, in order.
    expect(checkReports(proxy.reports.filter((report) => report.id === serviceId), history)).toBeNull();
    expect(checkReports(proxy.reports.filter((report) => report.id === executionId), history)).toBeNull();
    expect(proxy.reports.every((report) => !('statusVersion' in report.status))).toBe(true);
    expect(proxy.delivered(executionId).at(-1)?.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    // The control plane numbers the reports as they arrive.
    expect(cpVersions.get(serviceId)?.length).toBeGreaterThanOrEqual(4);
    expect(increasing(cpVersions.get(serviceId)!)).toBe(true);
    expect(increasing(cpVersions.get(executionId)!)).toBe(true);
    // The runner follows the event stream as a Connect client does.
    expect(proxy.watchContentTypes.every((type) => type === 'application/connect+json')).toBe(true);
    expect(proxy.watchContentTypes.length).toBeGreaterThan(0);

    // Deleted on the control plane: gone here, then there.
    await cp.client.environments.automations.services.delete({ id: serviceId });
    await waitFor(async () => (await runner.call('GetService', { id: serviceId })).status === 404, { what: 'the runner to delete it' });
    await waitFor(async () => (await cp.call('GetService', { id: serviceId })).status === 404, { what: 'the control plane to delete it' });

    // Changes asked of the runner's own API (the SDK here) are made on the control plane.
    const localId = await createService(runner.client, 'local', { start: 'exec sleep 1000' });
    expect((await getService(runner.client, localId)).metadata?.reference).toBe('local');
    expect((await getService(cp.client, localId)).metadata?.reference).toBe('local');
    await runner.client.environments.automations.services.start({ id: localId });
    await waitPhase(cp.client, localId, 'SERVICE_PHASE_RUNNING');
    await runner.client.environments.automations.services.stop({ id: localId });
    await waitPhase(cp.client, localId, 'SERVICE_PHASE_STOPPED');
    // The control plane's refusals come back as they are.
    const refused = await runner.call('CreateService', { metadata: { reference: 'local' }, spec: { commands: { start: 'true' } } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('already_exists');
    expect(refused.body.message).toContain('The control plane');
    expect((await runner.call('ListTasks', {})).body.tasks.map((task: any) => task.metadata.reference)).toEqual(['build', 'long']);

    const health = await daemonStatus(runner.daemon.info.url, runner.daemon.token);
    expect(health.mode).toBe('runner');
    expect(health.controlPlane).toMatchObject({ url: proxy.url, connected: true, outboxDepth: 0, lastError: null });
    expect(Date.parse(health.controlPlane.lastReportAt)).toBeGreaterThan(0);
  });

  it("serves the SDK's runCommand and runService through the control plane", async () => {
    const { cp, runner } = await startPair();
    const environmentId = runner.daemon.info.environmentId;
    expect(await collect(await runCommand(runner.client, environmentId, 'echo one; echo two'))).toEqual(['one', 'two']);
    const lines = await runService(runner.client, environmentId, { reference: 'sdk-web', name: 'Web' }, { commands: { start: 'echo started; exec sleep 60', ready: 'true' } });
    const iterator = lines[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe('started');
    await iterator.return?.(undefined);
    const { services } = (await cp.call('ListServices', {})).body;
    expect(services.map((service: any) => [service.metadata.reference, service.status.phase])).toEqual([['sdk-web', 'SERVICE_PHASE_RUNNING']]);
  });

  it('keeps reports while the control plane is away and delivers the latest of each resource, in order', async () => {
    const { cp, proxy, runner, dir, history } = await startPair();
    const crash = join(dir, 'crash');
    const finish = join(dir, 'finish');
    const publish = join(dir, 'publish');
    const crashing = await startService(cp.client, 'crashing', { start: `${waitUntilFile(crash)}; exit 3` });
    const publishing = await startService(cp.client, 'publishing', {
      start: `${waitUntilFile(publish)}; echo A=1 >> $GITPOD_OUTPUT; sleep 0.05; echo B=2 >> $GITPOD_OUTPUT; exec sleep 1000`,
    });
    const executionId = await startTask(cp.client, 'waits', waitUntilFile(finish));
    await waitPhase(cp.client, crashing, 'SERVICE_PHASE_RUNNING');
    await waitPhase(cp.client, publishing, 'SERVICE_PHASE_RUNNING');
    await waitExecution(cp.client, executionId, 'TASK_EXECUTION_PHASE_RUNNING');

    proxy.mode = 'unreachable';
    proxy.cutWatches();
    for (const file of [crash, finish, publish]) writeFileSync(file, '');
    await waitPhase(runner.client, crashing, 'SERVICE_PHASE_FAILED');
    await waitExecution(runner.client, executionId, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    await waitFor(async () => (await getService(runner.client, publishing)).status?.output?.B === '2', { what: 'both outputs' });
    // Two changes of one resource queued up: only the latest waits.
    const health = await waitFor(() => {
      const current = runner.daemon.controlPlane!.health();
      return !current.connected && current.outboxDepth === 3 ? current : undefined;
    }, { what: 'three reports in the outbox' });
    expect(health.lastError).toContain('unreachable');
    // A change asked here meanwhile cannot be made: unavailable (the SDK retries those).
    const meanwhile = await runner.call('StopService', { id: publishing });
    expect(meanwhile.status).toBe(503);
    expect(meanwhile.body.code).toBe('unavailable');
    expect((await getService(cp.client, crashing)).status?.phase).toBe('SERVICE_PHASE_RUNNING');

    proxy.mode = 'pass';
    await waitPhase(cp.client, crashing, 'SERVICE_PHASE_FAILED');
    expect((await getService(cp.client, crashing)).status?.failureMessage).toContain('3');
    await waitExecution(cp.client, executionId, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    await waitFor(async () => (await getService(cp.client, publishing)).status?.output?.B === '2', { what: 'the outputs upstream' });
    expect((await getService(cp.client, publishing)).status?.output).toEqual({ A: '1', B: '2' });
    // The intermediate status (A without B) never went up: it was replaced in the outbox.
    expect(proxy.delivered(publishing).some((report) => report.output?.A === '1' && report.output.B === undefined)).toBe(false);

    for (const id of [crashing, publishing, executionId]) {
      expect(checkReports(proxy.reports.filter((report) => report.id === id), history), id).toBeNull();
      const upstream = id === executionId ? (await cp.call('GetTaskExecution', { id })).body.taskExecution : await getService(cp.client, id);
      const local = id === executionId ? (await runner.call('GetTaskExecution', { id })).body.taskExecution : await getService(runner.client, id);
      expect(withoutVersion(upstream.status), id).toEqual(withoutVersion(local.status));
    }
    await waitFor(() => runner.daemon.controlPlane!.health().connected, { what: 'connected again' });
    expect(runner.daemon.controlPlane!.health().outboxDepth).toBe(0);
  });

  it('delivers the reports queued before a kill -9 once restarted', async () => {
    const { cp, proxy } = await startControlPlane();
    const root = tempDir();
    const stateDir = join(root, 'state');
    const env = {
      TEND_CONTROL_PLANE_TOKEN: cp.daemon.runnerToken!,
      GITPOD_ENVIRONMENT_ID: cp.daemon.info.environmentId,
    };
    const args = ['--workspace', root, '--control-plane', proxy.url, '--stop-timeout', '500ms'];
    const first = await spawnDaemon(args, stateDir, env);
    const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const crash = join(root, 'crash');
    const finish = join(root, 'finish');
    const serviceId = await startService(cp.client, 'crashing', { start: `${waitUntilFile(crash)}; exit 2` });
    const executionId = await startTask(cp.client, 'waits', waitUntilFile(finish));
    await waitPhase(cp.client, serviceId, 'SERVICE_PHASE_RUNNING');
    await waitExecution(cp.client, executionId, 'TASK_EXECUTION_PHASE_RUNNING');

    proxy.mode = 'down';
    writeFileSync(crash, '');
    writeFileSync(finish, '');
    await waitFor(async () => (await daemonStatus(first.info.url, token)).controlPlane.outboxDepth === 2, { what: 'two queued reports' });
    first.child.kill('SIGKILL');
    await first.exited;

    proxy.mode = 'pass';
    const second = await spawnDaemon(args, stateDir, env);
    await waitPhase(cp.client, serviceId, 'SERVICE_PHASE_FAILED');
    expect((await getService(cp.client, serviceId)).status?.failureMessage).toContain('2');
    await waitExecution(cp.client, executionId, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(checkReports(proxy.reports.filter((report) => report.id === serviceId))).toBeNull();
    expect(checkReports(proxy.reports.filter((report) => report.id === executionId))).toBeNull();
    await waitFor(async () => (await daemonStatus(second.info.url, token)).controlPlane.outboxDepth === 0, { what: 'an empty outbox' });
    expect(await second.stop()).toBe(0);
  });

  it('after a kill -9, re-adopts its service and follows what the control plane asked meanwhile', async () => {
    const { cp, proxy } = await startControlPlane();
    const root = tempDir();
    const stateDir = join(root, 'state');
    const env = { TEND_CONTROL_PLANE_TOKEN: cp.daemon.runnerToken!, GITPOD_ENVIRONMENT_ID: cp.daemon.info.environmentId };
    const args = ['--workspace', root, '--control-plane', proxy.url, '--stop-timeout', '500ms'];
    const first = await spawnDaemon(args, stateDir, env);
    const pidFile = join(root, 'kept.pid');
    const keptId = await startService(cp.client, 'kept', { start: `echo $$ > ${join(root, 'kept.pid')}; exec sleep 1000` });
    const stoppedId = await startService(cp.client, 'stopped', { start: `echo $$ > ${join(root, 'stopped.pid')}; exec sleep 1000` });
    const running = await waitPhase(cp.client, keptId, 'SERVICE_PHASE_RUNNING');
    await waitPhase(cp.client, stoppedId, 'SERVICE_PHASE_RUNNING');
    const keptPid = await readPidFile(pidFile);
    const stoppedPid = await readPidFile(join(root, 'stopped.pid'));
    first.child.kill('SIGKILL');
    await first.exited;

    await cp.client.environments.automations.services.stop({ id: stoppedId });
    const second = await spawnDaemon(args, stateDir, env);
    await waitPhase(cp.client, stoppedId, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(stoppedPid)).toBe(false);
    // The other one was re-adopted, not started twice: same process, same session.
    expect(pidAlive(keptPid)).toBe(true);
    const kept = await getService(cp.client, keptId);
    expect(kept.status?.phase).toBe('SERVICE_PHASE_RUNNING');
    expect(kept.status?.session).toBe(running.status?.session);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(keptPid));
    expect(await second.stop()).toBe(0);
    expect(pidAlive(keptPid)).toBe(false);
  });

  it('does not retry a report the control plane refuses with 400, and logs it with the resource', async () => {
    const { cp, proxy, runner, logLines, history } = await startPair();
    const refusedId = await createService(cp.client, 'refused', { start: 'exec sleep 1000' });
    proxy.rejectIds.set(refusedId, 400);
    await cp.client.environments.automations.services.start({ id: refusedId });
    await waitPhase(runner.client, refusedId, 'SERVICE_PHASE_RUNNING');
    // A later report of another resource goes through: the refused one was not retried before it.
    const laterId = await startService(cp.client, 'later', { start: 'exec sleep 1000' });
    await waitPhase(cp.client, laterId, 'SERVICE_PHASE_RUNNING');
    await waitFor(() => runner.daemon.controlPlane!.health().outboxDepth === 0, { what: 'an empty outbox' });

    const attempts = proxy.reports.filter((report) => report.id === refusedId);
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((report) => report.answered === 400)).toBe(true);
    // Each status was tried once (refused: not retried), in order.
    expect(checkReports(attempts, history)).toBeNull();
    expect(new Set(attempts.map((report) => JSON.stringify(report.status))).size).toBe(attempts.length);
    expect((await getService(cp.client, refusedId)).status?.phase).toBe('SERVICE_PHASE_STOPPED');
    const logged = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'Control plane refused a status report: not retried');
    expect(logged.map((entry) => entry.id)).toContain(refusedId);
    expect(logged[0]).toMatchObject({ kind: 'service', status: 400, code: 'invalid_argument' });
  });

  it('restarts a running service whose spec the control plane changed (an automations file edit)', async () => {
    const { cp, runner, dir } = await startPair();
    const file = (word: string) => ({
      services: { web: { commands: { start: `echo ${word} > ${join(dir, word)}; exec sleep 1000` }, triggeredBy: ['manual'] } },
    });
    await cp.call('UpsertAutomationsFile', { automationsFile: file('first') });
    const { services } = (await cp.call('ListServices', {})).body;
    const id = services[0].id;
    await cp.client.environments.automations.services.start({ id });
    const first = await waitPhase(cp.client, id, 'SERVICE_PHASE_RUNNING');
    await waitFor(() => existsSync(join(dir, 'first')), { what: 'the first command to run' });

    await cp.call('UpsertAutomationsFile', { automationsFile: file('second') });
    await waitFor(() => existsSync(join(dir, 'second')), { what: 'the changed command to run on the runner' });
    const second = await waitFor(async () => {
      const service = await getService(cp.client, id);
      return service.status?.phase === 'SERVICE_PHASE_RUNNING' && service.status.session !== first.status?.session ? service : undefined;
    }, { what: 'a new session upstream' });
    expect(second.status?.session).toBe(second.spec?.session);
    expect((await getService(runner.client, id)).status?.session).toBe(second.status?.session);
  });

  it('retries a report answered 429 until it is taken', async () => {
    const { cp, proxy, runner, history } = await startPair();
    const id = await createService(cp.client, 'throttled', { start: 'exec sleep 1000' });
    proxy.rejectIds.set(id, 429);
    await cp.client.environments.automations.services.start({ id });
    await waitPhase(runner.client, id, 'SERVICE_PHASE_RUNNING');
    await waitFor(() => proxy.reports.filter((report) => report.id === id && report.answered === 429).length >= 3, { what: 'retries' });
    proxy.rejectIds.delete(id);
    await waitPhase(cp.client, id, 'SERVICE_PHASE_RUNNING');
    expect(checkReports(proxy.reports.filter((report) => report.id === id), history)).toBeNull();
  });

  it('says once that a control plane takes no execution reports, and goes on with the services', async () => {
    const { cp, proxy, runner, logLines } = await startPair();
    proxy.missingMethods.add('UpdateTaskExecutionStatus');
    for (const reference of ['one', 'two']) await waitExecution(runner.client, await startTask(cp.client, reference, 'true'));
    const id = await startService(cp.client, 'web', { start: 'exec sleep 1000' });
    await waitPhase(cp.client, id, 'SERVICE_PHASE_RUNNING');
    await waitFor(() => runner.daemon.controlPlane!.health().outboxDepth === 0, { what: 'an empty outbox' });
    const entries = logLines.map((line) => JSON.parse(line) as { msg: string; kind?: string });
    expect(entries.filter((entry) => entry.msg.startsWith('The control plane takes no task execution reports'))).toHaveLength(1);
    expect(entries.filter((entry) => entry.msg === 'Control plane refused a status report: not retried')).toEqual([]);
    expect(proxy.reports.filter((report) => report.method === 'UpdateTaskExecutionStatus').length).toBeGreaterThan(2);
  });

  it('unsets upstream an output the runner no longer has', async () => {
    const { cp, runner, dir } = await startPair();
    const unset = join(dir, 'unset');
    const id = await startService(cp.client, 'outputs', {
      start: `echo A=1 >> $GITPOD_OUTPUT; echo B=2 >> $GITPOD_OUTPUT; ${waitUntilFile(unset)}; echo A= >> $GITPOD_OUTPUT; exec sleep 1000`,
    });
    await waitFor(async () => (await getService(cp.client, id)).status?.output?.B === '2', { what: 'both outputs upstream' });
    expect((await getService(cp.client, id)).status?.output).toEqual({ A: '1', B: '2' });
    writeFileSync(unset, '');
    await waitFor(async () => (await getService(runner.client, id)).status?.output?.A === undefined, { what: 'A unset on the runner' });
    await waitFor(async () => (await getService(cp.client, id)).status?.output?.A === undefined, { what: 'A unset upstream' });
    expect((await getService(cp.client, id)).status?.output).toEqual({ B: '2' });
  });

  it('lists everything again after a silent period (a resync), and stays connected', async () => {
    const { cp, proxy, runner } = await startPair({ resyncMs: 100 });
    const lists = runner.daemon.controlPlane!.lists;
    await waitFor(() => runner.daemon.controlPlane!.lists >= lists + 2, { what: 'two resyncs' });
    expect(proxy.watchesOpened).toBeGreaterThanOrEqual(3);
    expect(runner.daemon.controlPlane!.health()).toMatchObject({ connected: true, lastError: null });
    // Events still arrive between resyncs.
    const id = await startService(cp.client, 'after-resync', { start: 'exec sleep 1000' });
    await waitPhase(cp.client, id, 'SERVICE_PHASE_RUNNING');
  });

  it('picks up changes made while its event stream was cut', async () => {
    const { cp, proxy, runner, logLines } = await startPair();
    const oldId = await createService(cp.client, 'web', { start: 'exec sleep 1000' });
    await waitFor(async () => (await runner.call('GetService', { id: oldId })).status === 200, { what: 'the runner to have it' });
    const lists = runner.daemon.controlPlane!.lists;
    proxy.blockWatch = true;
    proxy.cutWatches();
    await waitFor(() => !runner.daemon.controlPlane!.health().connected, { what: 'the runner to notice' });
    const serviceId = await startService(cp.client, 'meanwhile', { start: 'exec sleep 1000' });
    const executionId = await startTask(cp.client, 'meanwhile-task', 'true');
    // Replaced under the same reference: the runner drops the old one and runs the new one.
    await cp.client.environments.automations.services.delete({ id: oldId });
    const newId = await startService(cp.client, 'web', { start: 'exec sleep 1000' });
    proxy.blockWatch = false;
    await waitPhase(cp.client, serviceId, 'SERVICE_PHASE_RUNNING');
    await waitPhase(cp.client, newId, 'SERVICE_PHASE_RUNNING');
    expect((await runner.call('GetService', { id: oldId })).status).toBe(404);
    expect(logLines.some((line) => line.includes('recreated a service under a new id'))).toBe(true);
    await waitExecution(cp.client, executionId, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(runner.daemon.controlPlane!.lists).toBeGreaterThan(lists);
    expect(proxy.watchesOpened).toBeGreaterThanOrEqual(2);
  });
});

describe('tend daemon --control-plane', () => {
  it('tend env --runner prints what a runner needs from a serve-only daemon, and refuses other daemons', async () => {
    const { cp } = await startControlPlane();
    const printed = await runCli(['env', '--runner', '--state-dir', cp.stateDir]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(
      `export TEND_CONTROL_PLANE_URL=${cp.daemon.info.url}\nexport TEND_CONTROL_PLANE_TOKEN=${cp.daemon.runnerToken}\nexport GITPOD_ENVIRONMENT_ID=${cp.daemon.info.environmentId}\n`,
    );
    const standalone = await startTestDaemon();
    const refused = await runCli(['env', '--runner', '--state-dir', standalone.stateDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not serve-only');
  });

  it('refuses incomplete runner settings with a usage error', async () => {
    const stateDir = join(tempDir(), 'state');
    const env = { TEND_CONTROL_PLANE_TOKEN: '', GITPOD_ENVIRONMENT_ID: '' };
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--control-plane', 'not a url'], env, /Invalid --control-plane/],
      [['--control-plane', 'http://127.0.0.1:1'], env, /needs the control plane token/],
      [['--control-plane', 'http://127.0.0.1:1'], { ...env, TEND_CONTROL_PLANE_TOKEN: 't' }, /needs the environment's id/],
      [['--control-plane', 'http://127.0.0.1:1', '--serve-only'], env, /exclude each other/],
      [['--control-plane-token-file', '/nonexistent'], env, /needs --control-plane/],
      [['--control-plane', 'http://127.0.0.1:1', '--file', 'x.yaml'], env, /takes what runs from its control plane/],
    ];
    for (const [args, extra, message] of cases) {
      const result = await runCli(['daemon', '--state-dir', stateDir, ...args], { env: extra });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(existsSync(join(stateDir, 'daemon.json'))).toBe(false);
  });
});

describe('a serve-only daemon (the control plane)', () => {
  it("takes status reports in the reference's shape only with the runner token, and numbers them as they arrive", async () => {
    const { cp } = await startControlPlane();
    const id = await createService(cp.client, 'web', { start: 'true' });
    const runnerToken = cp.daemon.runnerToken!;
    const version = async (): Promise<bigint> => BigInt((await getService(cp.client, id)).status!.statusVersion!);

    const denied = await cp.call('UpdateService', { id, status: { phase: 'SERVICE_PHASE_RUNNING' } });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('runner token');

    // The official SDK's UpdateService with the runner token: the reference's status, no version.
    const runnerClient = new GitpodClient({ baseURL: cp.daemon.info.url, bearerToken: runnerToken, maxRetries: 0 });
    const before = await version();
    await runnerClient.environments.automations.services.update({ id, status: { phase: 'SERVICE_PHASE_RUNNING', session: 's1' } });
    const running = await getService(cp.client, id);
    expect(running.status).toMatchObject({ phase: 'SERVICE_PHASE_RUNNING', session: 's1' });
    const first = BigInt(running.status!.statusVersion!);
    expect(first).toBeGreaterThan(before);
    // The same report again (a runner that restarted before it knew the report arrived) changes nothing.
    await runnerClient.environments.automations.services.update({ id, status: { phase: 'SERVICE_PHASE_RUNNING', session: 's1' } });
    expect(await version()).toBe(first);
    // Every report that changes the status gets the next version.
    await runnerClient.environments.automations.services.update({ id, status: { phase: 'SERVICE_PHASE_FAILED', failureMessage: 'broke' } });
    expect(await version()).toBeGreaterThan(first);
    expect((await getService(cp.client, id)).status).toMatchObject({ phase: 'SERVICE_PHASE_FAILED', failureMessage: 'broke', session: 's1' });
    // A runner of an earlier tend still sends its version: an unknown field to this one, dropped.
    expect((await cp.call('UpdateService', { id, status: { phase: 'SERVICE_PHASE_STOPPED', statusVersion: '1' } }, { token: runnerToken })).status).toBe(200);
    expect((await getService(cp.client, id)).status?.phase).toBe('SERVICE_PHASE_STOPPED');

    // Nothing runs on a control plane: a started service waits for its runner.
    await cp.client.environments.automations.services.start({ id });
    expect((await getService(cp.client, id)).spec?.desiredPhase).toBe('SERVICE_PHASE_RUNNING');
    expect((await getService(cp.client, id)).status?.phase).toBe('SERVICE_PHASE_STOPPED');
    await cp.call('UpdateService', { id, status: { phase: 'SERVICE_PHASE_RUNNING', session: 's2' } }, { token: runnerToken });
    // A deletion waits for the runner to report the service stopped.
    await cp.client.environments.automations.services.delete({ id });
    expect((await cp.call('GetService', { id })).status).toBe(200);
    expect((await cp.call('UpdateService', { id, status: { phase: 'SERVICE_PHASE_STOPPED' } }, { token: runnerToken })).status).toBe(200);
    await waitFor(async () => (await cp.call('GetService', { id })).status === 404, { what: 'the deleted service to go' });
  });

  it('takes task execution reports without a version, and keeps a FAILED one open while a step still runs', async () => {
    const { cp } = await startControlPlane();
    const taskId = await createTask(cp.client, 'build', 'true');
    const { taskExecution } = await cp.client.environments.automations.tasks.start({ id: taskId });
    const id = taskExecution!.id!;
    const token = { token: cp.daemon.runnerToken! };
    const report = (status: unknown) => cp.call('UpdateTaskExecutionStatus', { id, status }, token);
    const failing = { phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: 'a broke', steps: [{ id: taskId, phase: 'TASK_EXECUTION_PHASE_RUNNING' }] };
    expect((await report(failing)).status).toBe(200);
    const open = await waitExecution(cp.client, id, 'TASK_EXECUTION_PHASE_FAILED', 5000, { ended: false });
    expect(open.metadata.completedAt).toBeUndefined();
    const version = open.status.statusVersion;
    expect((await report(failing)).status).toBe(200);
    expect((await getExecutionVersion(cp, id))).toBe(version);
    expect((await report({ ...failing, steps: [{ id: taskId, phase: 'TASK_EXECUTION_PHASE_SUCCEEDED' }] })).status).toBe(200);
    const ended = await waitExecution(cp.client, id, 'TASK_EXECUTION_PHASE_FAILED');
    expect(ended.metadata.completedAt).toBeDefined();
    expect(BigInt(ended.status.statusVersion)).toBeGreaterThan(BigInt(version));
    // Finished: a later report changes nothing.
    expect((await report({ phase: 'TASK_EXECUTION_PHASE_RUNNING' })).status).toBe(200);
    expect((await getExecutionVersion(cp, id))).toBe(ended.status.statusVersion);
  });

  it('refuses status reports on a daemon that runs its services itself', async () => {
    const { client, call } = await startTestDaemon();
    const id = await createService(client, 'web', { start: 'true' });
    const answer = await call('UpdateService', { id, status: { phase: 'SERVICE_PHASE_RUNNING' } });
    expect(answer.status).toBe(403);
  });
});

describe('status upstream policy', () => {
  it('retries when no answer came, on 5xx, 408 and 429; never on another 4xx', () => {
    const retryable = (status: number | null) => new UpstreamError('x', status, 'x').retryable;
    expect([null, 500, 502, 503, 408, 429].map(retryable)).toEqual([true, true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 412].map(retryable)).toEqual([false, false, false, false, false, false]);
  });

  it('backs off exponentially with jitter, within bounds', () => {
    const settings = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelay(settings, 0, () => 0)).toBe(50);
    expect(backoffDelay(settings, 0, () => 1)).toBe(100);
    expect(backoffDelay(settings, 3, () => 1)).toBe(800);
    expect(backoffDelay(settings, 10, () => 0.5)).toBe(750);
    expect(backoffDelay(settings, 100, () => 1)).toBe(1000);
  });

  it('keeps only the latest status of a resource in the outbox, durably', async () => {
    const path = join(tempDir(), 'store.db');
    const store = new Store(path);
    store.outbox.enqueue('service', 'a', '5', { phase: 'five' });
    store.outbox.enqueue('service', 'a', '7', { phase: 'seven' });
    store.outbox.enqueue('service', 'a', '6', { phase: 'six' });
    store.outbox.enqueue('execution', 'a', '3', { phase: 'three' });
    await store.committed();
    expect(store.outbox.entries().map((entry) => [entry.kind, entry.version, JSON.parse(entry.body)])).toEqual([
      ['execution', 3n, { phase: 'three' }],
      ['service', 7n, { phase: 'seven' }],
    ]);
    // Delivered: removed, unless a newer one was queued meanwhile.
    store.outbox.delivered({ kind: 'service', id: 'a', version: 5n });
    store.outbox.delivered({ kind: 'execution', id: 'a', version: 3n });
    store.close();
    const reopened = new Store(path);
    expect(reopened.outbox.entries().map((entry) => entry.version)).toEqual([7n]);
    expect(existsSync(path)).toBe(true);
    reopened.close();
  });
});
