import { spawn } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findProcesses, INSTANCE_MARKER_VAR, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { CLI, spawnDaemon, type DaemonProcess } from './helpers/cli.js';
import { startTestDaemon } from './helpers/daemon.js';
import { pidAlive, readPidFile, runIdOf } from './helpers/services.js';
import { tempDir } from './helpers/temp.js';
import { dockerUnavailable, TEST_IMAGE } from './helpers/docker.js';
import { createServer, type AddressInfo } from 'node:net';
import { waitFor } from './helpers/wait.js';

/** A daemon subprocess and a raw API client for it. */
async function crashable(args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const root = tempDir();
  const stateDir = join(root, 'state');
  const daemon = await spawnDaemon(['--workspace', root, ...args], stateDir, env);
  const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
  const api = async (method: string, body: unknown): Promise<any> =>
    (await fetch(`${daemon.info.url}/gitpod.v1.EnvironmentAutomationService/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })).json();
  const instanceIds = (): string[] => {
    const db = new Database(join(stateDir, 'store.db'), { readonly: true });
    try {
      return JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'instance_ids'").get() as { value: string }).value);
    } finally {
      db.close();
    }
  };
  return { root, stateDir, daemon, api, instanceIds };
}

const dockerReady = (await dockerUnavailable()) === null;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Sockets listening on 127.0.0.1:port, from /proc/net/tcp (state 0A is LISTEN). */
function listeners(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1] === `0100007F:${hex}` && fields[3] === '0A';
    }).length;
}

async function kill9(daemon: DaemonProcess): Promise<void> {
  daemon.child.kill('SIGKILL');
  await daemon.exited;
}

describe('crash safety', () => {
  it('after kill -9 with 20 services running (some in docker), a restart re-adopts each once: same session, same pid, one listener per port, logs continue', async () => {
    const { root, stateDir, daemon, api } = await crashable();
    if (dockerReady) {
      onTestFinished(async () => {
        const engine = new Docker();
        const left = await engine.listContainers({ all: true, filters: { label: [`dev.tend.state-dir=${stateDir}`] } });
        await Promise.all(left.map((container) => engine.getContainer(container.Id).remove({ force: true }).catch(() => {})));
      });
    }
    const port = await freePort();
    const ids: string[] = [];
    const machine = dockerReady ? 18 : 20;
    for (let index = 0; index < machine; index++) {
      // s0 listens on a port: a second copy of it would fail with EADDRINUSE, or be a second listener.
      const body =
        index === 0
          ? `echo $$ > ${root}/s0.pid; exec ${JSON.stringify(process.execPath)} -e "require('net').createServer().listen(${port}, '127.0.0.1'); setInterval(() => console.log('tick'), 50)"`
          : `echo $$ > ${root}/s${index}.pid; while :; do echo tick; sleep 0.05; done`;
      const { service } = await api('CreateService', {
        metadata: { reference: `s${index}` },
        spec: { commands: { start: body, ready: `test -s ${root}/s${index}.pid` } },
      });
      ids.push(service.id);
      await api('StartService', { id: service.id });
    }
    const containerIds: string[] = [];
    for (let index = machine; index < 20; index++) {
      const { service } = await api('CreateService', {
        metadata: { reference: `d${index}` },
        spec: { commands: { start: 'while :; do echo tick; sleep 0.1; done' }, runsOn: { docker: { image: TEST_IMAGE } } },
      });
      containerIds.push(service.id);
      await api('StartService', { id: service.id });
    }
    await waitFor(async () => (await Promise.all(containerIds.map((id) => api('GetService', { id })))).every((r) => r.service.status.phase === 'SERVICE_PHASE_RUNNING'), { what: 'docker services RUNNING', timeoutMs: 30_000 });
    const dockerSessions = await Promise.all(containerIds.map(async (id) => (await api('GetService', { id })).service.status.session));
    await waitFor(async () => (await Promise.all(ids.map((id) => api('GetService', { id })))).every((r) => r.service.status.phase === 'SERVICE_PHASE_RUNNING'), { what: '20 RUNNING' });
    const before = await Promise.all(ids.map(async (id) => (await api('GetService', { id })).service));
    const pids = await Promise.all(ids.map((_, index) => readPidFile(join(root, `s${index}.pid`))));
    await waitFor(() => listeners(port) === 1, { what: 'the listener' });
    await kill9(daemon);
    expect(pids.every(pidAlive)).toBe(true);

    const again = await startTestDaemon({ stateDir, workspace: root, stopTimeoutMs: 500 });
    const after = await waitFor(
      async () => {
        const services = await Promise.all(ids.map(async (id) => (await again.client.environments.automations.services.retrieve({ id })).service));
        return services.every((service) => service.status?.phase === 'SERVICE_PHASE_RUNNING') ? services : undefined;
      },
      { timeoutMs: 5000, what: 'every service RUNNING again within 5 s' },
    );
    expect(listeners(port)).toBe(1);
    for (const [index, id] of containerIds.entries()) {
      await waitFor(async () => (await again.client.environments.automations.services.retrieve({ id })).service.status?.phase === 'SERVICE_PHASE_RUNNING', {
        timeoutMs: 5000,
        what: 'the docker service RUNNING again',
      });
      expect((await again.client.environments.automations.services.retrieve({ id })).service.status?.session).toBe(dockerSessions[index]);
    }
    after.forEach((service, index) => {
      expect(service.status?.session).toBe(before[index].status.session);
      expect(runIdOf(service)).toBe(runIdOf(before[index]));
      // Exactly once: every process of the session is in the recorded process group.
      const own = findProcesses([], SESSION_MARKER_VAR, runIdOf(service));
      expect(own.some((ref) => ref.pid === pids[index])).toBe(true);
      // Still the program that was started: s0 exec'd this node (its thread name is `node` up to
      // Node 22 and `MainThread` from Node 24, so compare the executable); the others are
      // the shell (bash, or sh where there is none).
      if (index === 0) expect(realpathSync(`/proc/${pids[index]}/exe`)).toBe(realpathSync(process.execPath));
      else expect(readFileSync(`/proc/${pids[index]}/stat`, 'latin1')).toMatch(/\((bash|sh)\)/);
    });
    const headers = { authorization: `Bearer ${again.daemon.token}` };
    const ticks = async () => (await (await fetch(`${after[0]!.status!.logUrl}?follow=false`, { headers })).text()).split('\n').length;
    const first = await ticks();
    await waitFor(async () => (await ticks()) > first + 3, { what: 'the log to keep growing' });

    // Stop still works on a re-adopted service, and its exit is observed.
    await again.client.environments.automations.services.stop({ id: ids[0]! });
    await waitFor(async () => (await again.client.environments.automations.services.retrieve({ id: ids[0]! })).service.status?.phase === 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(pids[0]!)).toBe(false);
    process.kill(pids[1]!, 'SIGKILL');
    const exited = await waitFor(async () => {
      const service = (await again.client.environments.automations.services.retrieve({ id: ids[1]! })).service;
      return service.status?.phase === 'SERVICE_PHASE_FAILED' ? service : undefined;
    });
    expect(exited.status?.failureMessage).toContain('re-adopted after a daemon restart, so its exit code is unknown');
  });

  it('a service that exits while the daemon is down is seen as exited; a reused pid is neither adopted nor killed', async () => {
    const { root, stateDir, daemon, api } = await crashable();
    const make = async (reference: string) => {
      const { service } = await api('CreateService', { metadata: { reference }, spec: { commands: { start: `echo $$ > ${root}/${reference}.pid; exec sleep 60` } } });
      await api('StartService', { id: service.id });
      return service.id as string;
    };
    const gone = await make('gone');
    const reused = await make('reused');
    await waitFor(async () => (await api('GetService', { id: reused })).service.status.phase === 'SERVICE_PHASE_RUNNING');
    const gonePid = await readPidFile(join(root, 'gone.pid'));
    const reusedPid = await readPidFile(join(root, 'reused.pid'));
    await kill9(daemon);
    process.kill(gonePid, 'SIGKILL');
    process.kill(reusedPid, 'SIGKILL');
    // Make the record of "reused" point at an unrelated live process: same pid number in the
    // record as this stranger, but the recorded start time is the old one.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    onTestFinished(() => {
      stranger.kill('SIGKILL');
    });
    const db = new Database(join(stateDir, 'store.db'));
    const row = db.prepare('SELECT process FROM services WHERE id = ?').get(reused) as { process: string };
    const record = JSON.parse(row.process);
    record.session.identity.pid = stranger.pid;
    record.session.identity.pgid = stranger.pid;
    db.prepare('UPDATE services SET process = ? WHERE id = ?').run(JSON.stringify(record), reused);
    db.close();

    const again = await startTestDaemon({ stateDir, workspace: root });
    for (const id of [gone, reused]) {
      const service = (await again.client.environments.automations.services.retrieve({ id })).service;
      expect(service.status?.phase).toBe('SERVICE_PHASE_FAILED');
      expect(service.status?.failureMessage).toContain('its process is gone');
    }
    expect(pidAlive(stranger.pid!)).toBe(true);
  });

  it('a crash right after a spawn, before the record is stored, leaves no orphan', async () => {
    const { root, stateDir, daemon, api, instanceIds } = await crashable([], { TEND_FAULT: 'after-spawn' });
    const [oldInstance] = instanceIds();
    const { service } = await api('CreateService', { metadata: { reference: 'orphan' }, spec: { commands: { start: `echo $$ > ${root}/orphan.pid; exec sleep 60` } } });
    await api('StartService', { id: service.id }).catch(() => undefined);
    await daemon.exited;
    const pid = await readPidFile(join(root, 'orphan.pid'));
    expect(pidAlive(pid)).toBe(true);

    await startTestDaemon({ stateDir, workspace: root });
    await waitFor(() => !pidAlive(pid), { what: 'the orphan to be killed' });
    expect(findProcesses([], INSTANCE_MARKER_VAR, oldInstance!)).toEqual([]);
  });

  it('a crash in the middle of a stop: the restarted daemon finishes the stop', async () => {
    const { root, stateDir, daemon, api } = await crashable(['--stop-timeout', '60s'], { TEND_FAULT: 'mid-stop' });
    const { service } = await api('CreateService', { metadata: { reference: 'stubborn' }, spec: { commands: { start: `trap '' TERM; echo $$ > ${root}/s.pid; while :; do sleep 0.05; done` } } });
    await api('StartService', { id: service.id });
    await waitFor(async () => (await api('GetService', { id: service.id })).service.status.phase === 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(join(root, 's.pid'));
    // The crash comes 20 ms into the stop: on a loaded machine, before the answer has gone out.
    await api('StopService', { id: service.id }).catch(() => undefined);
    await daemon.exited;
    expect(pidAlive(pid)).toBe(true);

    const again = await startTestDaemon({ stateDir, workspace: root, stopTimeoutMs: 300 });
    await waitFor(async () => (await again.client.environments.automations.services.retrieve({ id: service.id })).service.status?.phase === 'SERVICE_PHASE_STOPPED', {
      what: 'the stop to be finished',
    });
    expect(pidAlive(pid)).toBe(false);
  });

  it('a crash in the middle of a reload: the restarted daemon applies the file whole', async () => {
    const root = tempDir();
    const file = join(root, 'automations.yaml');
    writeFileSync(file, 'services:\n  web: {commands: {start: "exec sleep 60"}}\n');
    const stateDir = join(root, 'state');
    // The first apply at start-up crashes half way (services applied, tasks not).
    const child = spawn(process.execPath, [CLI, 'daemon', '--workspace', root, '--state-dir', stateDir, '--file', file], {
      stdio: 'ignore',
      env: { ...process.env, TEND_FAULT: 'mid-reload' },
    });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const signal = await new Promise((resolve) => child.once('exit', (_code, signalName) => resolve(signalName)));
    expect(signal).toBe('SIGKILL');
    const again = await startTestDaemon({ stateDir, workspace: root, automationsFile: file });
    expect(again.daemon.watcher!.status.problems).toEqual([]);
    const services = await again.call('ListServices', {});
    expect(services.body.services.map((s: any) => s.metadata.reference)).toEqual(['web']);
  });
});

describe('the store under random crashes', () => {
  it('30 kill -9 during API writes leave a store that opens, passes its integrity check and holds every acknowledged write', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const acknowledged: string[] = [];
    for (let round = 0; round < 30; round++) {
      const daemon = await spawnDaemon(['--workspace', root], stateDir);
      const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
      const writes = Array.from({ length: 20 }, (_, index) =>
        fetch(`${daemon.info.url}/gitpod.v1.EnvironmentAutomationService/CreateService`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ metadata: { reference: `r${round}-${index}` }, spec: { commands: { start: 'true' } } }),
        }).then(
          async (response) => {
            if (response.ok) acknowledged.push(((await response.json()) as any).service.id);
          },
          () => undefined,
        ),
      );
      // Somewhere among the writes, at a different moment each round.
      await new Promise((resolve) => setTimeout(resolve, 5 + ((round * 29) % 76)));
      await kill9(daemon);
      await Promise.all(writes);
    }
    const db = new Database(join(stateDir, 'store.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = new Set((db.prepare('SELECT id FROM services').all() as Array<{ id: string }>).map((row) => row.id));
    db.close();
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  }, 120_000);
});
