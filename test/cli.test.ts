import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Gitpod } from '@gitpod/sdk';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findProcesses, sendSignal } from '../src/runtime/machine/proc.js';
import { runCli, spawnDaemon } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { waitPhase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

/** Every process of the test carries TEST_TAG=<uuid>, so the test can prove none is left. */
function tagged(): { tag: string; left: () => number } {
  const tag = randomUUID();
  const left = () => findProcesses([], 'TEST_TAG', tag).length;
  onTestFinished(() => {
    for (const ref of findProcesses([], 'TEST_TAG', tag)) sendSignal(ref.pid, 'SIGKILL');
  });
  return { tag, left };
}

describe('tend CLI', () => {
  it('runs the daemon, exports its address, drives services, and stops everything on SIGTERM', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const { tag, left } = tagged();
    const daemon = await spawnDaemon(['--workspace', root, '--stop-timeout', '300ms', '--listen', '127.0.0.1:0'], stateDir);
    expect(daemon.info.pid).toBe(daemon.child.pid);
    expect(daemon.info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(join(stateDir, 'token')).mode & 0o777).toBe(0o600);

    const env = await runCli(['env', '--state-dir', stateDir]);
    expect(env.code).toBe(0);
    const exports = Object.fromEntries(
      env.stdout.trim().split('\n').map((line) => line.replace(/^export /, '').split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    expect(exports.GITPOD_BASE_URL).toBe(daemon.info.url);

    const client = new Gitpod({ baseURL: exports.GITPOD_BASE_URL, bearerToken: exports.GITPOD_API_KEY, maxRetries: 0 });
    const { service } = await client.environments.automations.services.create({
      environmentId: exports.GITPOD_ENVIRONMENT_ID,
      metadata: { reference: 'web' },
      spec: {
        commands: { start: "echo serving; trap '' TERM; exec sleep 60", ready: 'true' },
        env: [{ name: 'TEST_TAG', value: tag }],
      } as any, // `env` is in the reference but not in the SDK 0.6.0 types
    });

    const start = await runCli(['services', 'start', 'web', '--state-dir', stateDir]);
    expect(start.stdout).toBe('Starting web\n');
    await waitPhase(client, service.id, 'SERVICE_PHASE_RUNNING');
    const list = await runCli(['services', 'list', '--state-dir', stateDir]);
    expect(list.stdout).toMatch(/^SERVICE\s+PHASE\s+WANTED\s+COMMAND/);
    expect(list.stdout).toMatch(/\nweb\s+running\s+running\s+echo serving/);
    const json = JSON.parse((await runCli(['services', 'list', '--json', '--state-dir', stateDir])).stdout);
    expect(json[0].id).toBe(service.id);
    await waitFor(async () => (await runCli(['services', 'logs', 'web', '--state-dir', stateDir])).stdout === 'serving\n', {
      what: 'the log to hold the output',
    });
    expect(left()).toBe(1);

    const missing = await runCli(['services', 'stop', 'nope', '--state-dir', stateDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('tend: Service "nope" not found: `tend services list` shows them all\n');

    // The service ignores SIGTERM: shutdown must still end it (SIGKILL after 300 ms) and exit 0.
    expect(await daemon.stop()).toBe(0);
    expect(left()).toBe(0);
    expect(existsSync(join(stateDir, 'daemon.json'))).toBe(false);
  });

  it('says clearly when no daemon runs', async () => {
    const stateDir = tempDir();
    const result = await runCli(['services', 'list', '--state-dir', stateDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No tend daemon is running for state directory');
    const env = await runCli(['env', '--state-dir', stateDir]);
    expect(env.code).toBe(1);
  });

  it('refuses a bad duration and a bad listen address with a clear message', async () => {
    const stateDir = tempDir();
    const duration = await runCli(['daemon', '--state-dir', stateDir, '--stop-timeout', '5 minutes']);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('Invalid --stop-timeout: Invalid duration "5 minutes"');
    const listen = await runCli(['daemon', '--state-dir', stateDir, '--listen', 'localhost']);
    expect(listen.code).toBe(1);
    expect(listen.stderr).toContain('Invalid --listen "localhost"');
  });

  it('takes the token from TEND_TOKEN', async () => {
    const stateDir = tempDir();
    const daemon = await spawnDaemon([], stateDir, { TEND_TOKEN: 'my-own-token' });
    const response = await fetch(`${daemon.info.url}/gitpod.v1.EnvironmentAutomationService/ListServices`, {
      method: 'POST',
      headers: { authorization: 'Bearer my-own-token', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    daemon.child.kill('SIGINT');
    expect(await daemon.exited).toBe(0);
  });
});

describe('tend tasks and executions', () => {
  it('starts tasks, waits with the outcome as exit code, shows history and logs, and stops executions', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const { tag } = tagged();
    const daemon = await spawnDaemon(['--workspace', root, '--task-stop-timeout', '200ms'], stateDir);
    const token = (await import('node:fs')).readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const client = new Gitpod({ baseURL: daemon.info.url, bearerToken: token, maxRetries: 0 });
    const tasks = client.environments.automations.tasks;
    const env = [{ name: 'TEST_TAG', value: tag }];
    const { task: install } = await tasks.create({ metadata: { reference: 'install' }, spec: { command: 'echo installing', env } as any });
    await tasks.create({ metadata: { reference: 'build' }, spec: { command: 'echo building', env } as any, dependsOn: [install.id] });
    await tasks.create({ metadata: { reference: 'broken' }, spec: { command: 'echo "no such file" >&2; exit 7', env } as any });
    await tasks.create({ metadata: { reference: 'forever' }, spec: { command: 'exec sleep 60', env } as any });
    const dir = ['--state-dir', stateDir];

    const list = await runCli(['tasks', 'list', ...dir]);
    expect(list.stdout).toMatch(/^TASK\s+COMMAND\s+DEPENDS ON\n/);
    expect(list.stdout).toMatch(/\nbuild\s+echo building\s+install\n/);

    const ok = await runCli(['tasks', 'start', 'build', '--wait', ...dir]);
    expect(ok.code).toBe(0);
    // Its output as it runs, each step under its header, then the outcome.
    expect(ok.stdout).toMatch(/^install +\| ── install\ninstall +\| installing\ninstall +\| ── install \(succeeded, \d+\.\d s\)\nbuild +\| ── build\nbuild +\| building\nbuild +\| ── build \(succeeded, \d+\.\d s\)\n/);
    expect(ok.stdout).toMatch(/\nbuild: succeeded\n  install: succeeded\n  build: succeeded\n$/);
    expect(ok.stdout).not.toContain('[section-');
    const failed = await runCli(['tasks', 'start', 'broken', '--wait', ...dir]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^no such file\nbroken: failed\n  broken: failed\n    Task "broken": command/);
    expect(failed.stdout).toContain('exited with code 7; last output:\n    no such file');

    const logs = (await runCli(['tasks', 'logs', 'build', ...dir])).stdout;
    expect(logs).toMatch(/^── install\ninstalling\n── install \(succeeded, \d+\.\d s\)\n── build\nbuilding\n── build \(succeeded, \d+\.\d s\)\n$/);
    const history = await runCli(['executions', 'list', ...dir]);
    expect(history.stdout).toMatch(/^EXECUTION\s+TASK\s+PHASE\s+STARTED BY\s+CREATED\n[0-9a-f-]{36}\s+broken\s+failed\s+manual/);
    const json = JSON.parse((await runCli(['executions', 'list', '--json', ...dir])).stdout);
    expect(json).toHaveLength(2);
    const shown = await runCli(['executions', 'show', json[1].id, ...dir]);
    expect(shown.stdout).toBe('build: succeeded\n  install: succeeded\n  build: succeeded\n');

    const started = await runCli(['tasks', 'start', 'forever', '--json', ...dir]);
    const execution = JSON.parse(started.stdout);
    await waitFor(async () => (await tasks.executions.retrieve({ id: execution.id })).taskExecution.status?.phase === 'TASK_EXECUTION_PHASE_RUNNING');
    expect((await runCli(['executions', 'stop', execution.id, ...dir])).stdout).toBe(`Stopping ${execution.id}\n`);
    await waitFor(async () => (await tasks.executions.retrieve({ id: execution.id })).taskExecution.status?.phase === 'TASK_EXECUTION_PHASE_STOPPED');
    const unknown = await runCli(['executions', 'show', '00000000-0000-4000-8000-000000000000', ...dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('tend: Task execution "00000000-0000-4000-8000-000000000000" not found\n');
    expect(await daemon.stop()).toBe(0);
  });
});

describe('one daemon per state directory', () => {
  it('refuses a second daemon, naming the running one; a stale lock of a dead daemon is taken over', async () => {
    const stateDir = tempDir();
    const first = await spawnDaemon([], stateDir);
    const second = await runCli(['daemon', '--state-dir', stateDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`tend: Another tend daemon is running on state directory ${stateDir}: pid ${first.info.pid}, ${first.info.url}\n`);
    first.child.kill('SIGKILL');
    await first.exited;
    // The dead daemon's lock and daemon.json are left behind: a new daemon takes over.
    const third = await spawnDaemon([], stateDir);
    expect(third.info.pid).not.toBe(first.info.pid);
    expect(await third.stop()).toBe(0);
  });
});
