import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LABEL_STATE_DIR } from '../src/runtime/docker/engine-client.js';
import { spawnDaemon } from './helpers/cli.js';
import { startTestDaemon } from './helpers/daemon.js';
import { dockerUnavailable, TEST_IMAGE } from './helpers/docker.js';
import { createService, waitPhase } from './helpers/services.js';
import { createTask, planLabels, stepPhases, waitExecution } from './helpers/tasks.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

const unavailable = await dockerUnavailable();
if (unavailable !== null) {
  if (process.env.CI !== undefined && process.env.CI !== '') throw new Error(`CI needs a Docker engine for these tests: ${unavailable}`);
  console.warn(`Skipping the Docker tests: ${unavailable}`);
}

const docker = new Docker();
const inDocker = (environment: string[] = []) => ({ runsOn: { docker: { image: TEST_IMAGE, environment } } });

/** Removes every container of this state directory when the test ends. */
function cleanContainers(stateDir: string): void {
  onTestFinished(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_STATE_DIR}=${stateDir}`] } });
    await Promise.all(left.map((container) => docker.getContainer(container.Id).remove({ force: true }).catch(() => {})));
  });
}

/**
 * The test image plus the machine's bash (and the libraries it links), as `/bin/bash`: an image
 * that has bash. Removed when the test ends.
 */
async function imageWithBash(): Promise<string> {
  const bash = realpathSync(execFileSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim());
  const libraries = execFileSync('ldd', [bash], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /(\/\S+) \(0x/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
  const tag = `tend-test-bash:${randomUUID().slice(0, 8)}`;
  const container = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['true'] });
  try {
    const transform = `s,^${bash.slice(1).replaceAll('.', '\\.')}$,bin/bash,`;
    const archive = execFileSync('tar', ['-c', '-h', '-P', '--transform', transform, '-f', '-', ...[bash, ...libraries].map((path) => path.slice(1))], { cwd: '/', maxBuffer: 64 * 1024 * 1024 });
    await container.putArchive(archive, { path: '/' });
    const [repo, version] = tag.split(':') as [string, string];
    await container.commit({ repo, tag: version });
  } finally {
    await container.remove({ force: true });
  }
  onTestFinished(async () => {
    await docker.getImage(tag).remove({ force: true }).catch(() => {});
  });
  return tag;
}

async function ownContainers(stateDir: string, all = false) {
  return docker.listContainers({ all, filters: { label: [`${LABEL_STATE_DIR}=${stateDir}`] } });
}

describe.skipIf(unavailable !== null)('services and tasks in Docker containers (real engine)', () => {
  it('a docker service with a ready command gets RUNNING; env and environment entries reach it; stop removes the container', async () => {
    const td = await startTestDaemon({ stopTimeoutMs: 10_000 });
    cleanContainers(td.stateDir);
    const out = join(td.workspace, 'env.txt');
    const id = await createService(
      td.client,
      'web',
      { start: `echo "$GREETING|$FROM_IMAGE_ENV|$(pwd)" > ${out}; trap 'echo got TERM; exit 0' TERM; while :; do sleep 0.05; done`, ready: `test -f ${out}` },
      { ...inDocker(['FROM_IMAGE_ENV=yes']), env: [{ name: 'GREETING', value: 'hello docker' }] },
    );
    await td.client.environments.automations.services.start({ id });
    const running = await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
    expect(readFileSync(out, 'utf8').trim()).toBe(`hello docker|yes|${td.workspace}`);
    const containers = await ownContainers(td.stateDir);
    expect(containers).toHaveLength(1);
    expect(containers[0]!.Labels['dev.tend.session']).toBe(running.status?.session);
    expect(containers[0]!.HostConfig.NetworkMode).toBe('host');

    await td.client.environments.automations.services.stop({ id });
    const stopped = await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED', 30_000);
    const log = await (await fetch(`${stopped.status!.logUrl}?follow=false`, { headers: { authorization: `Bearer ${td.daemon.token}` } })).text();
    expect(log).toContain('got TERM');
    await waitFor(async () => (await ownContainers(td.stateDir, true)).length === 0, { what: 'the container to be removed' });
  });

  it('kills a container that ignores SIGTERM after the stop timeout', async () => {
    const td = await startTestDaemon({ stopTimeoutMs: 300 });
    cleanContainers(td.stateDir);
    const id = await createService(td.client, 'stubborn', { start: "trap '' TERM; while :; do sleep 0.05; done" }, inDocker());
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
    await td.client.environments.automations.services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED', 30_000);
    await waitFor(async () => (await ownContainers(td.stateDir, true)).length === 0, { what: 'the container to be removed' });
  });

  it('runs the stop command inside the container; exit codes give STOPPED and FAILED', async () => {
    const td = await startTestDaemon({ stopTimeoutMs: 10_000 });
    cleanContainers(td.stateDir);
    const marker = join(td.workspace, 'stopped-inside');
    const id = await createService(td.client, 'graceful', { start: 'while :; do sleep 0.05; done', stop: `cat /etc/passwd > ${marker}` }, inDocker());
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
    await td.client.environments.automations.services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED', 30_000);
    // The container's /etc/passwd (the test image's), not the host's: the stop command ran inside.
    expect(readFileSync(marker, 'utf8')).toBe('root:x:0:0:root:/:/bin/sh\n');

    const ok = await createService(td.client, 'done', { start: 'echo bye' }, inDocker());
    const bad = await createService(td.client, 'crash', { start: 'echo boom; exit 7' }, inDocker());
    await td.client.environments.automations.services.start({ id: ok });
    await td.client.environments.automations.services.start({ id: bad });
    // STOPPED after its run, which names its log (before it runs, a service is STOPPED with none).
    const done = await waitFor(
      async () => {
        const { service } = await td.client.environments.automations.services.retrieve({ id: ok });
        return service.status?.phase === 'SERVICE_PHASE_STOPPED' && service.status.logUrl !== undefined ? service : undefined;
      },
      { timeoutMs: 30_000, what: 'the service "done" STOPPED after its run' },
    );
    expect(done.status?.failureMessage).toBeUndefined();
    const failed = await waitPhase(td.client, bad, 'SERVICE_PHASE_FAILED', 30_000);
    expect(failed.status?.failureMessage).toContain('exited with code 7');
    expect(failed.status?.failureMessage).toContain('boom');
  });

  it('runs a task step in docker inside a plan with machine steps', async () => {
    const td = await startTestDaemon();
    cleanContainers(td.stateDir);
    const order = join(td.workspace, 'order');
    const first = await createTask(td.client, 'first', `echo machine >> ${order}`);
    const inside = await createTask(td.client, 'inside', `echo docker >> ${order}; echo "where=container" >> $GITPOD_OUTPUT`, [first], inDocker());
    const last = await createTask(td.client, 'last', `echo machine-again >> ${order}`, [inside]);
    const done = await waitExecution(td.client, (await td.client.environments.automations.tasks.start({ id: last })).taskExecution.id, undefined, 60_000);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(planLabels(done)).toEqual([['first'], ['inside'], ['last']]);
    expect(readFileSync(order, 'utf8')).toBe('machine\ndocker\nmachine-again\n');
    expect(done.status.steps.find((step) => step.id === inside)?.output).toEqual({ where: 'container' });
    expect(stepPhases(done)).toEqual({ first: 'TASK_EXECUTION_PHASE_SUCCEEDED', inside: 'TASK_EXECUTION_PHASE_SUCCEEDED', last: 'TASK_EXECUTION_PHASE_SUCCEEDED' });
  });

  it('a missing image and an unreachable engine are FAILED phases with the reason', async () => {
    const td = await startTestDaemon();
    cleanContainers(td.stateDir);
    const missing = await createService(td.client, 'ghost', { start: 'true' }, { runsOn: { docker: { image: 'tend-no-such-image:1' } } });
    await td.client.environments.automations.services.start({ id: missing });
    const failed = await waitPhase(td.client, missing, 'SERVICE_PHASE_FAILED', 60_000);
    expect(failed.status?.failureMessage).toContain('Image "tend-no-such-image:1" is not present and cannot be pulled');

    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${join(tempDir(), 'nothing.sock')}`;
    onTestFinished(() => {
      process.env.DOCKER_HOST = saved;
    });
    const away = await createService(td.client, 'away', { start: 'true' }, inDocker());
    await td.client.environments.automations.services.start({ id: away });
    const unreachable = await waitPhase(td.client, away, 'SERVICE_PHASE_FAILED', 30_000);
    expect(unreachable.status?.failureMessage).toContain('Docker engine unreachable');
  });

  it('a stored spec without an image (from before the check) fails to start with the reason, and nothing is uncaught', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const args = ['--workspace', root, '--stop-timeout', '500ms'];
    const first = await spawnDaemon(args, stateDir);
    const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const api = async (url: string, method: string, body: unknown) =>
      (await (await fetch(`${url}/gitpod.v1.EnvironmentAutomationService/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })).json()) as any;
    const { service } = await api(first.info.url, 'CreateService', { metadata: { reference: 'blank' }, spec: { commands: { start: 'true' }, ...inDocker() } });
    expect(await first.stop()).toBe(0);
    const store = new Database(join(stateDir, 'store.db'));
    store.prepare("UPDATE services SET spec = json_set(spec, '$.runsOn.docker.image', '') WHERE id = ?").run(service.id);
    store.close();

    const second = await spawnDaemon(args, stateDir);
    cleanContainers(stateDir);
    await api(second.info.url, 'StartService', { id: service.id });
    const failed = await waitFor(async () => {
      const { service: current } = await api(second.info.url, 'GetService', { id: service.id });
      return current.status.phase === 'SERVICE_PHASE_FAILED' ? current : undefined;
    }, { what: 'the service to fail' });
    expect(failed.status.failureMessage).toBe('Cannot start service "blank": runsOn.docker needs an image');
    expect(failed.status.logUrl).toBeUndefined();
    expect(await second.stop()).toBe(0);
    expect(second.output()).not.toMatch(/Uncaught exception|Unhandled rejection/);
  });

  it('a container killed from outside is a FAILED phase naming the signal', async () => {
    const td = await startTestDaemon();
    cleanContainers(td.stateDir);
    const id = await createService(td.client, 'victim', { start: 'while :; do sleep 0.05; done' }, inDocker());
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
    const [container] = await ownContainers(td.stateDir);
    await docker.getContainer(container!.Id).kill({ signal: 'SIGKILL' });
    const failed = await waitPhase(td.client, id, 'SERVICE_PHASE_FAILED', 30_000);
    expect(failed.status?.failureMessage).toContain('was killed by signal SIGKILL');
    await waitFor(async () => (await ownContainers(td.stateDir, true)).length === 0, { what: 'the container to be removed' });
  });

  it('after kill -9 of the daemon, a restart re-adopts its running container once and never touches foreign ones', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    cleanContainers(stateDir);
    const foreign = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ['/bin/sh', '-c', 'while :; do sleep 1; done'], Labels: { owner: 'someone-else' } });
    await foreign.start();
    onTestFinished(() => foreign.remove({ force: true }).catch(() => {}));

    const crashed = await spawnDaemon(['--workspace', root], stateDir);
    const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const api = async (method: string, body: unknown) =>
      (await (await fetch(`${crashed.info.url}/gitpod.v1.EnvironmentAutomationService/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })).json()) as any;
    const { service } = await api('CreateService', { metadata: { reference: 'web' }, spec: { commands: { start: 'while :; do echo tick; sleep 0.1; done' }, ...inDocker() } });
    const { service: ended } = await api('CreateService', { metadata: { reference: 'ended' }, spec: { commands: { start: `while [ ! -f ${root}/end ]; do sleep 0.05; done; exit 3` }, ...inDocker() } });
    await api('StartService', { id: ended.id });
    await api('StartService', { id: service.id });
    await waitFor(async () => (await api('GetService', { id: service.id })).service.status.phase === 'SERVICE_PHASE_RUNNING', { timeoutMs: 30_000 });
    await waitFor(async () => (await api('GetService', { id: ended.id })).service.status.phase === 'SERVICE_PHASE_RUNNING', { timeoutMs: 30_000 });
    const before = (await api('GetService', { id: service.id })).service;
    const [webContainer] = (await ownContainers(stateDir)).filter((container) => container.Labels['dev.tend.session'] === before.status.session);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    // While the daemon is down, one container keeps running and the other one ends.
    writeFileSync(join(root, 'end'), '');
    await waitFor(async () => (await ownContainers(stateDir)).length === 1, { timeoutMs: 30_000, what: 'one container to end' });

    const again = await startTestDaemon({ stateDir, workspace: root, stopTimeoutMs: 500 });
    const adopted = (await again.client.environments.automations.services.retrieve({ id: service.id })).service;
    expect(adopted.status?.phase).toBe('SERVICE_PHASE_RUNNING');
    expect(adopted.status?.session).toBe(before.status.session);
    expect((await ownContainers(stateDir)).map((container) => container.Id)).toEqual([webContainer!.Id]);
    const gone = (await again.client.environments.automations.services.retrieve({ id: ended.id })).service;
    expect(gone.status?.phase).toBe('SERVICE_PHASE_FAILED');
    expect(gone.status?.failureMessage).toContain('its container is no longer running');
    expect((await foreign.inspect()).State.Running).toBe(true);
    // Its output keeps reaching the same log, and stop still works.
    const headers = { authorization: `Bearer ${again.daemon.token}` };
    const lines = async () => (await (await fetch(`${adopted.status!.logUrl}?follow=false`, { headers })).text()).split('\n').length;
    const first = await lines();
    await waitFor(async () => (await lines()) > first + 3, { what: 'the log to keep growing', timeoutMs: 10_000 });
    await again.client.environments.automations.services.stop({ id: service.id });
    await waitPhase(again.client, service.id, 'SERVICE_PHASE_STOPPED', 30_000);
    await waitFor(async () => (await ownContainers(stateDir, true)).length === 0, { what: 'the container to be removed' });
    expect(existsSync(join(stateDir, 'store.db'))).toBe(true);
  });

  it('a runner runs the Docker service of its control plane and reports it up', async () => {
    const cp = await startTestDaemon({ serveOnly: true });
    const runner = await startTestDaemon({
      stopTimeoutMs: 10_000,
      controlPlane: { url: cp.daemon.info.url, token: cp.daemon.runnerToken!, backoff: { initialMs: 10, maxMs: 100 } },
      environmentId: cp.daemon.info.environmentId,
    });
    cleanContainers(runner.stateDir);
    const id = await createService(cp.client, 'boxed', { start: 'exec sleep 1000', ready: 'true' }, inDocker());
    await cp.client.environments.automations.services.start({ id });
    const upstream = await waitPhase(cp.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
    const containers = await ownContainers(runner.stateDir);
    expect(containers).toHaveLength(1);
    expect(containers[0]!.Labels['dev.tend.session']).toBe(upstream.status?.session);
    await cp.client.environments.automations.services.stop({ id });
    await waitPhase(cp.client, id, 'SERVICE_PHASE_STOPPED', 30_000);
    await waitFor(async () => (await ownContainers(runner.stateDir, true)).length === 0, { what: 'the container to be removed' });
  });
  it("runs commands with the image's bash when it has one, else with its /bin/sh", async () => {
    const bashImage = await imageWithBash();
    const td = await startTestDaemon({ stopTimeoutMs: 10_000 });
    cleanContainers(td.stateDir);
    const command = 'echo "shell=$0 $(echo {1..3})"; exec sleep 60';
    const plain = await createService(td.client, 'plain', { start: command, ready: 'test -d /' }, inDocker());
    const bashful = await createService(td.client, 'bashful', { start: command, ready: '[[ -d / ]]', stop: 'echo stopping {a..c}' }, { runsOn: { docker: { image: bashImage, environment: [] } } });
    for (const id of [plain, bashful]) await td.client.environments.automations.services.start({ id });
    const logOf = async (id: string) => {
      const service = await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
      return waitFor(async () => {
        const text = await (await fetch(`${service.status!.logUrl}?follow=false`, { headers: { authorization: `Bearer ${td.daemon.token}` } })).text();
        return text.includes('shell=') ? text : undefined;
      }, { what: 'the first line' });
    };
    expect(await logOf(plain)).toBe('shell=/bin/sh {1..3}\n');
    expect(await logOf(bashful)).toBe('shell=bash 1 2 3\n');
    await td.client.environments.automations.services.stop({ id: bashful });
    const stopped = await waitPhase(td.client, bashful, 'SERVICE_PHASE_STOPPED', 30_000);
    // The stop command ran inside the container with bash too.
    expect(await (await fetch(`${stopped.status!.logUrl}?follow=false`, { headers: { authorization: `Bearer ${td.daemon.token}` } })).text()).toBe('shell=bash 1 2 3\nstopping a b c\n');
  });
});
