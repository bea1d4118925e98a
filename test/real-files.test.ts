/**
 * What real automations files (written for Ona) do, with real processes: bash syntax, a ready
 * command that takes its time, the `gitpod` and `ona` commands inside commands (services, tasks,
 * ports), and the API from inside a task.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROBE_TIMINGS } from '../src/engine/services/ready-probing.js';
import { runCli, spawnDaemon } from './helpers/cli.js';
import { memoryLogger, startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { createService, getService, waitPhase } from './helpers/services.js';
import { createTask, getExecution, waitExecution } from './helpers/tasks.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

async function daemonCall(td: TestDaemon, method: string, body: unknown): Promise<any> {
  const response = await fetch(`${td.daemon.info.url}/tend.v1.DaemonService/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** A port nothing listens on (taken from the kernel, then given back). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `gitpod ARGS` (or `ona`) as tend's commands run it, with the daemon's variables. */
function gitpod(td: TestDaemon, args: string[], name: 'gitpod' | 'ona' = 'gitpod', env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(td.stateDir, 'bin', name), args, {
      env: { PATH: process.env.PATH, GITPOD_BASE_URL: td.daemon.info.url, GITPOD_API_KEY: td.daemon.token, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A command that serves HTTP on `port` after `after` ms, or once the file `when` exists. */
const listen = (port: number, after = 0, when?: string) =>
  `exec node -e "const serve = () => require('http').createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1'); ` +
  (when === undefined
    ? `setTimeout(serve, ${after})"`
    : `const timer = setInterval(() => require('fs').existsSync('${when}') && (clearInterval(timer), serve()), 20)"`);

const logOf = async (td: TestDaemon, url: string): Promise<string> =>
  (await fetch(`${url}?follow=false`, { headers: { authorization: `Bearer ${td.daemon.token}` } })).text();

describe('bash runs the commands', () => {
  it('start, ready and stop commands and task commands get bash syntax: {1..3}, echo -e, &>, [[ ]]', async () => {
    const td = await startTestDaemon();
    const dir = td.workspace;
    const id = await createService(td.client, 'db', {
      start: `for i in {1..3}; do echo -e "n\\t$i"; done &> ${dir}/out.txt; exec sleep 60`,
      ready: `[[ -s ${dir}/out.txt ]]`,
      stop: `echo stopping {a..c} > ${dir}/stop.txt`,
    });
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('n\t1\nn\t2\nn\t3\n');
    await td.client.environments.automations.services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED');
    expect(readFileSync(join(dir, 'stop.txt'), 'utf8')).toBe('stopping a b c\n');

    const task = await createTask(td.client, 'count', 'echo {1..5}; echo -e "a\\tb"');
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: task });
    const done = await waitExecution(td.client, taskExecution!.id!, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(await logOf(td, done.status.logUrl!)).toBe('1 2 3 4 5\na\tb\n');
    const status = await daemonCall(td, 'GetStatus', {});
    expect(status.body.daemon.shell).toMatch(/\/bash$/);
  });

  it('the daemon settings choose another shell; tend daemon --shell refuses one that does not exist', async () => {
    const td = await startTestDaemon({ shell: '/bin/sh' });
    const id = await createService(td.client, 'sh', { start: `echo {1..3} > ${td.workspace}/out.txt; exec sleep 60` });
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    await waitFor(() => existsSync(join(td.workspace, 'out.txt')), { what: 'the output' });
    // Debian's /bin/sh is dash: no brace expansion.
    if (!realpathSync('/bin/sh').endsWith('bash')) expect(readFileSync(join(td.workspace, 'out.txt'), 'utf8')).toBe('{1..3}\n');
    expect((await daemonCall(td, 'GetStatus', {})).body.daemon.shell).toBe('/bin/sh');

    const bad = await runCli(['daemon', '--state-dir', tempDir(), '--shell', '/nope/zsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('tend: Invalid --shell "/nope/zsh": no executable file of that path\n');
    const stateDir = tempDir();
    const named = await spawnDaemon(['--workspace', tempDir(), '--shell', 'sh'], stateDir);
    const shown = await fetch(`${named.info.url}/tend.v1.DaemonService/GetStatus`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readFileSync(join(stateDir, 'token'), 'utf8').trim()}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await shown.json()) as { daemon: { shell: string } }).daemon.shell).toMatch(/\/sh$/);
    expect(await named.stop()).toBe(0);
  });
});

describe('a ready command that takes its time', () => {
  it('runs as long as it needs up to the per-probe bound (a setting, 2 minutes by default), and what it waits for is shown', async () => {
    expect(DEFAULT_PROBE_TIMINGS.probeTimeoutMs).toBe(120_000);
    const { log, lines } = memoryLogger();
    const td = await startTestDaemon({ log, probe: { initialIntervalMs: 5, maxIntervalMs: 20, probeTimeoutMs: 5000 } });
    const dir = td.workspace;
    // Each probe takes 300 ms, says why it fails until the flag exists, then passes.
    const id = await createService(td.client, 'db', {
      start: 'exec sleep 60',
      ready: `sleep 0.3; if [ -f ${dir}/up ]; then echo accepting; else echo "db: no response"; exit 2; fi`,
    });
    await td.client.environments.automations.services.start({ id });
    const waiting = await waitFor(
      async () => {
        const entry = (await daemonCall(td, 'GetStatus', {})).body.readiness.find((candidate: { serviceId: string }) => candidate.serviceId === id);
        return entry?.probes >= 3 ? entry : undefined;
      },
      { what: 'three probes to have ended' },
    );
    expect(waiting).toMatchObject({
      service: 'db',
      readyCommand: expect.stringContaining('sleep 0.3'),
      readinessTimeout: null,
      lastProbe: { exitCode: 2, output: 'db: no response\n', killedAtBound: false },
    });
    expect(Date.parse(waiting.waitingSince)).toBeLessThanOrEqual(Date.parse(waiting.lastProbe.endedAt));
    expect((await getService(td.client, id)).status?.phase).toBe('SERVICE_PHASE_STARTING');
    const status = await runCli(['status', '--state-dir', td.stateDir]);
    expect(status.stdout).toMatch(/\nservice +db +starting +\d+ +\d+s +ready command: exit 2: db: no response\n/);
    expect(status.stdout).toMatch(/\nservice db: waiting for ready command "sleep 0\.3; .*" since \d+s \(no readiness timeout\); \d+ probes so far, the last exited 2: db: no response\n/);
    // One log line per change of the result, not one per probe.
    const changes = () => lines.filter((line) => line.includes('Ready probe result changed')).map((line) => JSON.parse(line) as { exitCode: number; output: string });
    expect(changes()).toEqual([expect.objectContaining({ exitCode: 2, output: 'db: no response\n' })]);
    writeFileSync(join(dir, 'up'), '');
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    expect(changes().map((change) => change.exitCode)).toEqual([2, 0]);
    expect((await daemonCall(td, 'GetStatus', {})).body.readiness).toEqual([]);
  });

  it('a probe that outlives the per-probe bound is killed, and the status says so', async () => {
    const td = await startTestDaemon({ probe: { initialIntervalMs: 5, maxIntervalMs: 20, probeTimeoutMs: 200 } });
    const id = await createService(td.client, 'slow', { start: 'exec sleep 60', ready: 'echo checking; sleep 30' }, { readinessTimeout: '5s' });
    await td.client.environments.automations.services.start({ id });
    const entry = await waitFor(async () => (await daemonCall(td, 'GetStatus', {})).body.readiness[0]?.lastProbe ? (await daemonCall(td, 'GetStatus', {})).body.readiness[0] : undefined, {
      what: 'a probe killed at its bound',
    });
    expect(entry.readinessTimeout).toBe('5s');
    expect(entry.lastProbe).toMatchObject({ exitCode: null, killedAtBound: true });
    expect(entry.lastProbe.output).toBe("checking\n\n(killed after 200ms: the bound of one probe, the daemon's --probe-timeout)");
  });
});

describe('the gitpod and ona commands inside commands', () => {
  it('a task starts a service, waits for its port, runs another task and reads logs, as real files do', async () => {
    const td = await startTestDaemon();
    const port = await freePort();
    const web = await createService(td.client, 'web', { start: `echo web says hello; ${listen(port, 200)}` });
    await createTask(td.client, 'child', 'echo child ran; echo child=1 >> "$GITPOD_OUTPUT"');
    await createTask(td.client, 'broken', 'echo about to fail; exit 4');
    const setup = await createTask(
      td.client,
      'setup',
      [
        'gitpod automations service start web',
        `for i in {1..200}; do gitpod environment port open ${port} --name frontend >/dev/null 2>&1 && break; sleep 0.05; done`,
        'gitpod automations task start child',
        'gitpod automations task start broken; echo "broken exited $?"',
        'gitpod automations service logs web',
        'gitpod environment port list',
        'ona environment port list',
      ].join('\n'),
    );
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: setup });
    const done = await waitExecution(td.client, taskExecution!.id!, undefined, 30_000);
    const log = await logOf(td, done.status.logUrl!);
    expect(done.status.phase, log).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(log).toContain('child ran\n');
    expect(log).toContain('about to fail\ngitpod: Task "broken" failed: Task "broken": command "echo about to fail; exit 4" exited with code 4');
    expect(log).toContain('broken exited 1\n');
    expect(log).toContain('web says hello\n');
    expect(log.split('\n').filter((line) => line === `${port}\tfrontend\thttp://127.0.0.1:${port}`)).toHaveLength(2);
    expect((await getService(td.client, web)).status?.phase).toBe('SERVICE_PHASE_RUNNING');
    const { body } = await daemonCall(td, 'ListPorts', {});
    expect(body.ports).toEqual([
      expect.objectContaining({ port, name: 'frontend', url: `http://127.0.0.1:${port}`, listening: true, openedBy: expect.objectContaining({ service: null, serviceId: null }) }),
    ]);
    expect(body.ports[0].openedBy.runId).toMatch(/^[0-9a-f-]{36}$/);

    // From outside too, with the daemon's variables: stop, and the port is still recorded but no longer served.
    expect((await gitpod(td, ['automations', 'service', 'stop', 'web'])).code).toBe(0);
    await waitPhase(td.client, web, 'SERVICE_PHASE_STOPPED');
    expect((await daemonCall(td, 'ListPorts', {})).body.ports[0].listening).toBe(false);
    expect(await gitpod(td, ['environment', 'port', 'close', String(port)])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await daemonCall(td, 'ListPorts', {})).body.ports).toEqual([]);
  });

  it('environment port open as a ready command: RUNNING once the port is served; recorded with its service; shown by tend status', async () => {
    const td = await startTestDaemon();
    const port = await freePort();
    const flag = join(td.workspace, 'serve');
    const id = await createService(td.client, 'web', { start: listen(port, 0, flag), ready: `gitpod environment port open ${port}` });
    await td.client.environments.automations.services.start({ id });
    const starting = await waitFor(async () => (await daemonCall(td, 'GetStatus', {})).body.readiness.find((entry: any) => entry.lastProbe !== null), { what: 'a failed probe' });
    expect(starting.lastProbe).toMatchObject({ exitCode: 1, output: `gitpod: Cannot open port ${port}: nothing listens on it on this machine\n` });
    expect((await getService(td.client, id)).status?.phase).toBe('SERVICE_PHASE_STARTING');
    writeFileSync(flag, '');
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    const { body } = await daemonCall(td, 'GetStatus', {});
    expect(body.ports).toEqual([expect.objectContaining({ port, name: 'web', listening: true, openedBy: expect.objectContaining({ serviceId: id, service: 'web' }) })]);
    expect(body.ports[0].listener.inode).toMatch(/^\d+$/);
    const status = await runCli(['status', '--state-dir', td.stateDir]);
    expect(status.stdout).toContain(`ports:\n  ${port} web http://127.0.0.1:${port} (service web)\n`);
    expect((await gitpod(td, ['environment', 'port', 'list'], 'ona')).stdout).toBe(`${port}\tweb\thttp://127.0.0.1:${port}\n`);
  });

  it('refuses at once while nothing listens, refuses bad ports, and says in one line what tend does not provide', async () => {
    const td = await startTestDaemon();
    const port = await freePort();
    expect(await gitpod(td, ['environment', 'port', 'open', String(port), '--name', 'x'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `gitpod: Cannot open port ${port}: nothing listens on it on this machine\n`,
    });
    expect((await daemonCall(td, 'ListPorts', {})).body.ports).toEqual([]);
    expect(await daemonCall(td, 'OpenPort', { port })).toEqual({
      status: 400,
      body: { code: 'failed_precondition', message: `Cannot open port ${port}: nothing listens on it on this machine` },
    });
    // ("3000" as a string is a number: proto3 JSON reads 64-bit and other integers from strings too.)
    for (const body of [{}, { port: 0 }, { port: 65_536 }, { port: 'three thousand' }, { port: 3000.5 }]) {
      const refused = await daemonCall(td, 'OpenPort', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.code).toBe('invalid_argument');
    }
    expect((await daemonCall(td, 'ClosePort', { port })).body).toEqual({ closed: false });
    const bad = await gitpod(td, ['environment', 'port', 'open', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('gitpod: Invalid port "70000": give a number from 1 to 65535, as in `gitpod environment port open 3000`\n');
    for (const [name, args] of [
      ['gitpod', ['environment', 'list']],
      ['ona', ['automations', 'update', '-']],
      ['gitpod', ['environment', 'port', 'open', String(port), '--protocol', 'https']],
      ['gitpod', ['login']],
    ] as const) {
      const result = await gitpod(td, [...args], name);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr.split('\n')).toHaveLength(2);
      expect(result.stderr).toMatch(new RegExp(`^${name}: tend does not provide "${name} ${args.slice(0, 2).join(' ')}.*" \\(\`${name} help\` lists what it provides\\)\n$`));
    }
    const help = await gitpod(td, ['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('gitpod environment port open PORT [--name NAME]\n');
    const missing = await gitpod(td, ['automations', 'service', 'start', 'nope']);
    expect(missing).toMatchObject({ code: 1, stderr: `gitpod: Service "nope" not found in the automations of ${td.daemon.info.url}\n` });
    const outside = await gitpod(td, ['environment', 'port', 'list'], 'gitpod', { GITPOD_BASE_URL: '', GITPOD_API_KEY: '' });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('GITPOD_BASE_URL and GITPOD_API_KEY are not set');
  });
});

describe('the API from inside a task', () => {
  it('every command gets GITPOD_BASE_URL, GITPOD_API_KEY and GITPOD_ENVIRONMENT_ID of its daemon: the SDK and fetch work as on Ona', async () => {
    const td = await startTestDaemon({ env: { ...process.env, GITPOD_API_KEY: 'a-stale-key', GITPOD_BASE_URL: 'http://127.0.0.1:9' } });
    const sdk = createRequire(import.meta.url).resolve('@gitpod/sdk');
    await createService(td.client, 'db', { start: 'exec sleep 60' });
    const out = join(td.workspace, 'env.txt');
    const script = [
      `import { Gitpod } from ${JSON.stringify(sdk)};`,
      'const client = new Gitpod();',
      'const { services } = await client.environments.automations.services.list({});',
      "console.log('sdk sees', services.map((service) => service.metadata.reference).join(','));",
      "const raw = await fetch(`${process.env.GITPOD_BASE_URL}/gitpod.v1.EnvironmentAutomationService/ListTasks`, { method: 'POST', headers: { authorization: `Bearer ${process.env.GITPOD_API_KEY}`, 'content-type': 'application/json' }, body: '{}' });",
      "console.log('fetch got', raw.status);",
    ].join('\n');
    writeFileSync(join(td.workspace, 'probe.mjs'), script);
    const task = await createTask(td.client, 'api', `echo "$GITPOD_BASE_URL|$GITPOD_API_KEY|$GITPOD_ENVIRONMENT_ID" > ${out}; node probe.mjs`);
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: task });
    const done = await waitExecution(td.client, taskExecution!.id!);
    const log = await logOf(td, done.status.logUrl!);
    expect(done.status.phase, log).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(readFileSync(out, 'utf8')).toBe(`${td.daemon.info.url}|${td.daemon.token}|${td.daemon.info.environmentId}\n`);
    expect(log).toBe('sdk sees db\nfetch got 200\n');
    expect((await getExecution(td.client, done.id)).status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
  });
});
