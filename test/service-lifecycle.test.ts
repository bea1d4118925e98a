import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProcesses, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, getService, pidAlive, readPidFile, runIdOf, waitPhase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

describe('service lifecycle with real processes', () => {
  it('stays STARTING until the ready command succeeds, then RUNNING', async () => {
    const { client, workspace } = await startTestDaemon();
    const flag = join(workspace, 'ready.flag');
    const probes = join(workspace, 'probes');
    const id = await createService(client, 'gated', {
      start: 'exec sleep 60',
      ready: `echo probe >> ${probes}; test -f ${flag}`,
    });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_STARTING');
    // Several probes have failed: the service must still be STARTING.
    await waitFor(() => existsSync(probes) && readFileSync(probes, 'utf8').split('\n').length > 3, {
      what: 'three failed probes',
    });
    expect((await getService(client, id)).status?.phase).toBe('SERVICE_PHASE_STARTING');
    writeFileSync(flag, '');
    const running = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    expect(running.status?.session).toBe(running.spec?.session);
    expect(running.status?.logUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/logs\//);
  });

  it('is RUNNING at once without a ready command', async () => {
    const { client } = await startTestDaemon();
    const id = await createService(client, 'plain', { start: 'exec sleep 60' });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
  });

  it('a start command that exits 0 ends STOPPED', async () => {
    const { client } = await startTestDaemon();
    const id = await createService(client, 'oneshot', { start: 'echo done' });
    await client.environments.automations.services.start({ id });
    const service = await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    expect(service.status?.failureMessage ?? '').toBe('');
    expect(service.status?.session).toBeTruthy();
  });

  it('a start command that exits non-zero ends FAILED with the code and the last output lines', async () => {
    const { client } = await startTestDaemon();
    const id = await createService(client, 'broken', {
      start: 'echo "line one"; echo "listen EADDRINUSE :3000" >&2; exit 3',
    });
    await client.environments.automations.services.start({ id });
    const service = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
    expect(service.status?.failureMessage).toContain('exited with code 3');
    expect(service.status?.failureMessage).toContain('listen EADDRINUSE :3000');
    expect(service.status?.failureMessage).toContain('line one');
  });

  it('a start command killed by a signal ends FAILED naming the signal', async () => {
    const { client, workspace } = await startTestDaemon();
    const pidFile = join(workspace, 'pid');
    const id = await createService(client, 'victim', { start: `echo $$ > ${pidFile}; exec sleep 60` });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    process.kill(await readPidFile(pidFile), 'SIGKILL');
    const service = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
    expect(service.status?.failureMessage).toContain('signal SIGKILL');
  });

  it('stops a service that honours SIGTERM: STOPPING, then STOPPED, no process left', async () => {
    const { client, workspace } = await startTestDaemon({ stopTimeoutMs: 20_000 });
    const pidFile = join(workspace, 'pid');
    const id = await createService(client, 'polite', {
      start: `trap 'echo got SIGTERM; exit 0' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`,
    });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(pidFile);
    await client.environments.automations.services.stop({ id });
    const stopped = await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(pid)).toBe(false);
    const log = await (await fetch(`${stopped.status?.logUrl}?follow=false`, { headers: { authorization: `Bearer ${client.bearerToken}` } })).text();
    expect(log).toContain('got SIGTERM');
  });

  it('SIGKILLs a service that ignores SIGTERM once the stop timeout passes', async () => {
    const { client, workspace } = await startTestDaemon({ stopTimeoutMs: 300 });
    const pidFile = join(workspace, 'pid');
    const id = await createService(client, 'stubborn', {
      start: `trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`,
    });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(pidFile);
    await client.environments.automations.services.stop({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPING');
    expect(pidAlive(pid)).toBe(true);
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(pid)).toBe(false);
  });

  it('kills a grandchild and a setsid descendant together with the service', async () => {
    const { client, workspace } = await startTestDaemon();
    const child = join(workspace, 'grandchild.pid');
    const escaped = join(workspace, 'escaped.pid');
    const id = await createService(client, 'tree', {
      start:
        `sh -c 'echo $$ > ${child}; exec sleep 60' & ` +
        `setsid sh -c 'echo $$ > ${escaped}; exec sleep 60' & ` +
        'wait',
    });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const grandchild = await readPidFile(child);
    const outsider = await readPidFile(escaped);
    // The setsid one really left the service's process group.
    const pgrp = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[2]);
    expect(pgrp(outsider)).not.toBe(pgrp(grandchild));
    await client.environments.automations.services.stop({ id });
    const stopped = await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(grandchild)).toBe(false);
    expect(pidAlive(outsider)).toBe(false);
    expect(findProcesses([], SESSION_MARKER_VAR, runIdOf(stopped))).toEqual([]);
  });

  it('kills what a start command left behind when it exits on its own', async () => {
    const { client, workspace } = await startTestDaemon();
    const left = join(workspace, 'left.pid');
    const id = await createService(client, 'leaky', { start: `sh -c 'echo $$ > ${left}; exec sleep 60' & sleep 0.1; exit 0` });
    await client.environments.automations.services.start({ id });
    const leftover = await readPidFile(left);
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    await waitFor(() => !pidAlive(leftover), { what: 'the leftover process to be killed' });
  });

  describe('stop command', () => {
    it('exit 0: the start command is killed and the service is STOPPED', async () => {
      const { client, workspace } = await startTestDaemon({ stopTimeoutMs: 20_000 });
      const pidFile = join(workspace, 'pid');
      const marker = join(workspace, 'stop-ran');
      const id = await createService(client, 'graceful', {
        start: `trap '' TERM; echo $$ > ${pidFile}; exec sleep 60`,
        stop: `touch ${marker}`,
      });
      await client.environments.automations.services.start({ id });
      await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
      const pid = await readPidFile(pidFile);
      await client.environments.automations.services.stop({ id });
      await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
      expect(existsSync(marker)).toBe(true);
      expect(pidAlive(pid)).toBe(false);
    });

    it('exit non-zero: FAILED with the stop command and its code', async () => {
      const { client } = await startTestDaemon({ stopTimeoutMs: 20_000 });
      const id = await createService(client, 'badstop', { start: 'exec sleep 60', stop: 'echo cannot stop; exit 4' });
      await client.environments.automations.services.start({ id });
      await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
      await client.environments.automations.services.stop({ id });
      const service = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
      expect(service.status?.failureMessage).toContain('Stop command "echo cannot stop; exit 4" exited with code 4');
      expect(service.status?.failureMessage).toContain('cannot stop');
    });

    it('hanging past the stop timeout: both are killed and the service is FAILED', async () => {
      const { client, workspace } = await startTestDaemon({ stopTimeoutMs: 300 });
      const stopPid = join(workspace, 'stop.pid');
      const startPid = join(workspace, 'start.pid');
      const id = await createService(client, 'hangstop', {
        start: `echo $$ > ${startPid}; exec sleep 60`,
        stop: `echo $$ > ${stopPid}; exec sleep 60`,
      });
      await client.environments.automations.services.start({ id });
      await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
      await client.environments.automations.services.stop({ id });
      const service = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
      expect(service.status?.failureMessage).toContain('did not exit within 300ms');
      expect(pidAlive(await readPidFile(stopPid))).toBe(false);
      expect(pidAlive(await readPidFile(startPid))).toBe(false);
    });
  });

  it('fails the service when the readiness timeout passes, naming it and the probe output', async () => {
    const { client } = await startTestDaemon({ readinessTimeoutMs: 200 });
    const id = await createService(client, 'never-ready', { start: 'exec sleep 60', ready: 'echo "connection refused"; exit 1' });
    await client.environments.automations.services.start({ id });
    const service = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
    expect(service.status?.failureMessage).toContain('did not become ready within 200ms');
    expect(service.status?.failureMessage).toContain('connection refused');
    expect(findProcesses([], SESSION_MARKER_VAR, runIdOf(service))).toEqual([]);
  });

  it('start and stop are idempotent and a restart is a new session', async () => {
    const { client } = await startTestDaemon();
    const id = await createService(client, 'idem', { start: 'exec sleep 60' });
    const services = client.environments.automations.services;
    await services.start({ id });
    await services.start({ id });
    const first = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    await services.start({ id });
    expect((await getService(client, id)).status?.session).toBe(first.status?.session);
    await services.stop({ id });
    await services.stop({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    await services.stop({ id });
    await services.start({ id });
    const second = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    expect(second.status?.session).not.toBe(first.status?.session);
  });

  it('passes the spec env and GITPOD_OUTPUT to the command, in the workspace directory', async () => {
    const { client, workspace } = await startTestDaemon();
    const out = join(workspace, 'env.txt');
    const id = await createService(
      client,
      'envy',
      { start: `echo "$GREETING|$PWD|$GITPOD_OUTPUT|\${TEND_TOKEN:-none}" > ${out}` },
      { env: [{ name: 'GREETING', value: 'hello world' }] },
    );
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    const [greeting, cwd, output, token] = readFileSync(out, 'utf8').trim().split('|');
    expect(greeting).toBe('hello world');
    expect(cwd).toBe(workspace);
    expect(output).toMatch(/outputs\/.+\.env$/);
    expect(token).toBe('none');
  });

  it('a missing secret fails the start with a message naming it', async () => {
    const { client } = await startTestDaemon();
    const id = await createService(
      client,
      'secretive',
      { start: 'echo $PASSWORD' },
      { env: [{ name: 'PASSWORD', valueFrom: { secretRef: { id: 'db-password' } } }] },
    );
    await client.environments.automations.services.start({ id });
    const service = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
    expect(service.status?.failureMessage).toContain('Secret "db-password" not found');
  });
});
