import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { createService, getService, pidAlive, readPidFile, waitPhase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

describe('services API', () => {
  it("tend.v1.DaemonService/StopServices stops the services named, or all of them, in one call; a bad request stops none", async () => {
    const td = await startTestDaemon();
    const services = td.client.environments.automations.services;
    const ids = await Promise.all(['a', 'b', 'c'].map((name) => createService(td.client, name, { start: 'exec sleep 60', ready: 'true' })));
    for (const id of ids) await services.start({ id });
    for (const id of ids) await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    const stop = (body: unknown) => td.call('StopServices', body, { service: 'tend.v1.DaemonService' });

    for (const body of [{}, { all: false }, { all: true, serviceIds: [ids[0]] }, { serviceIds: [] }]) {
      const refused = await stop(body);
      expect({ body, status: refused.status, code: refused.body.code }).toEqual({ body, status: 400, code: 'invalid_argument' });
    }
    const unknown = await stop({ serviceIds: [ids[0], '00000000-0000-4000-8000-000000000000'] });
    expect(unknown.body.code).toBe('not_found');
    for (const id of ids) expect((await getService(td.client, id)).spec?.desiredPhase).toBe('SERVICE_PHASE_RUNNING');

    const named = await stop({ serviceIds: [ids[0]] });
    expect(named.status).toBe(200);
    expect(named.body).toEqual({ serviceIds: [ids[0]] });
    await waitPhase(td.client, ids[0]!, 'SERVICE_PHASE_STOPPED');
    expect((await getService(td.client, ids[1]!)).status?.phase).toBe('SERVICE_PHASE_RUNNING');

    const all = await stop({ all: true });
    expect(all.body.serviceIds.sort()).toEqual([...ids].sort());
    for (const id of ids) await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED');
  });

  it('updates metadata at any time but the spec only when STOPPED or FAILED', async () => {
    const td = await startTestDaemon();
    const services = td.client.environments.automations.services;
    const id = await createService(td.client, 'web', { start: 'exec sleep 60', ready: 'true' });
    await services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    const before = await getService(td.client, id);

    // `role` and `env` are in the reference but not in the SDK 0.6.0 types.
    await services.update({ id, metadata: { name: 'Web server', role: 'SERVICE_ROLE_EDITOR', triggeredBy: { trigger: [{ manual: true }] } } } as any);
    const renamed = await getService(td.client, id);
    expect(renamed.metadata?.name).toBe('Web server');
    expect((renamed.metadata as any)?.role).toBe('SERVICE_ROLE_EDITOR');
    expect(renamed.metadata?.triggeredBy).toEqual([{ manual: true }]);
    expect(renamed.status?.session).toBe(before.status?.session);

    const refused = await td.call('UpdateService', { id, spec: { commands: { start: 'exec sleep 1' } } });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('failed_precondition');
    expect(refused.body.message).toBe('Cannot update the spec of service "web" while it is SERVICE_PHASE_RUNNING: stop it first');
    expect((await getService(td.client, id)).spec?.commands?.start).toBe('exec sleep 60');

    await services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED');
    await services.update({ id, spec: { commands: { start: 'exec sleep 30' }, env: [{ name: 'A', value: 'b' }] } } as any);
    const updated = await getService(td.client, id);
    expect(updated.spec?.commands).toEqual({ start: 'exec sleep 30', ready: 'true' });
    expect((updated.spec as any)?.env).toEqual([{ name: 'A', value: 'b' }]);
    expect(BigInt(updated.spec!.specVersion!)).toBeGreaterThan(BigInt(before.spec!.specVersion!));
  });

  it('lists with filters and pages (default 25, max 100), also with pagination in the query', async () => {
    const td = await startTestDaemon();
    const services = td.client.environments.automations.services;
    for (let index = 0; index < 130; index++) {
      await td.call('CreateService', {
        metadata: { reference: `svc-${index}`, role: index % 10 === 0 ? 'SERVICE_ROLE_AI_AGENT' : undefined },
        spec: { commands: { start: 'true' } },
      });
    }
    const first = await td.call('ListServices', {});
    expect(first.body.services).toHaveLength(25);
    expect(first.body.pagination.nextToken).not.toBe('');
    const big = await td.call('ListServices', { pagination: { pageSize: 1000 } });
    expect(big.body.services).toHaveLength(100);

    // The SDK sends token and pageSize as query parameters; iterate every page through it.
    const seen: string[] = [];
    for await (const service of services.list({ pageSize: 40 })) seen.push(service.metadata!.reference!);
    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);
    expect(seen[0]).toBe('svc-0');
    expect(seen[129]).toBe('svc-129');

    const byRef = await td.call('ListServices', { filter: { references: ['svc-3', 'svc-7', 'nope'] } });
    expect(byRef.body.services.map((s: any) => s.metadata.reference)).toEqual(['svc-3', 'svc-7']);
    const byRole = await td.call('ListServices', { filter: { roles: ['SERVICE_ROLE_AI_AGENT'] }, pagination: { pageSize: 100 } });
    expect(byRole.body.services).toHaveLength(13);
    const byId = await td.call('ListServices', { filter: { serviceIds: [byRef.body.services[0].id] } });
    expect(byId.body.services).toHaveLength(1);
    const ours = await td.call('ListServices', { filter: { environmentIds: [td.daemon.info.environmentId] } });
    expect(ours.body.services).toHaveLength(25);
    const other = await td.call('ListServices', { filter: { environmentIds: ['00000000-0000-4000-8000-000000000000'] } });
    expect(other.body.services).toEqual([]);
    const badToken = await td.call('ListServices', { pagination: { token: 'garbage' } });
    expect(badToken.body.code).toBe('invalid_argument');
  });

  it('deletes a running service after stopping it; force kills at once', async () => {
    const td = await startTestDaemon({ stopTimeoutMs: 60_000 });
    const services = td.client.environments.automations.services;
    const graceful = await createService(td.client, 'graceful', { start: 'exec sleep 60' });
    const pidFile = join(td.workspace, 'stubborn.pid');
    const stubborn = await createService(td.client, 'stubborn', { start: `trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done` });
    await services.start({ id: graceful });
    await services.start({ id: stubborn });
    await waitPhase(td.client, graceful, 'SERVICE_PHASE_RUNNING');
    await waitPhase(td.client, stubborn, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(pidFile);

    await services.delete({ id: graceful });
    await waitFor(async () => (await td.call('GetService', { id: graceful })).status === 404, { what: 'graceful to be deleted' });

    // SIGTERM is ignored and the stop timeout is a minute: only force gets rid of it now.
    await services.delete({ id: stubborn });
    await waitPhase(td.client, stubborn, 'SERVICE_PHASE_STOPPING');
    expect((await getService(td.client, stubborn)).spec?.desiredPhase).toBe('SERVICE_PHASE_DELETED');
    await services.delete({ id: stubborn, force: true });
    await waitFor(async () => (await td.call('GetService', { id: stubborn })).status === 404, { what: 'stubborn to be deleted' });
    expect(pidAlive(pid)).toBe(false);
    expect((await td.call('ListServices', {})).body.services).toEqual([]);

    // The reference is free again.
    await createService(td.client, 'graceful', { start: 'true' });
  });

  it('refuses to start a service that is being deleted', async () => {
    const td = await startTestDaemon({ stopTimeoutMs: 60_000 });
    // RUNNING once the trap is in place (a stop before it would end the service at once).
    const trapped = join(td.workspace, 'trapped');
    const id = await createService(td.client, 'doomed', { start: `trap '' TERM; touch ${trapped}; while :; do sleep 0.05; done`, ready: `test -f ${trapped}` });
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    await td.client.environments.automations.services.delete({ id });
    const refused = await td.call('StartService', { id });
    expect(refused.body.code).toBe('failed_precondition');
    await td.client.environments.automations.services.delete({ id, force: true });
  });

  it('statusVersion strictly increases with every status change, across a daemon restart', async () => {
    const root = tempDir();
    const dirs = { workspace: join(root, 'ws'), stateDir: join(root, 'state') };
    const td = await startTestDaemon(dirs);
    const id = await createService(td.client, 'versioned', { start: 'exec sleep 60', ready: 'sleep 0.05' });
    const versions: bigint[] = [];
    const phases: string[] = [];
    const record = async () => {
      const service = await getService(td.client, id);
      const version = BigInt(service.status!.statusVersion!);
      if (versions.length === 0 || versions.at(-1) !== version) {
        versions.push(version);
        phases.push(service.status!.phase!);
      }
      return service.status!.phase;
    };
    await record();
    await td.client.environments.automations.services.start({ id });
    await waitFor(async () => (await record()) === 'SERVICE_PHASE_RUNNING', { what: 'RUNNING' });
    await td.client.environments.automations.services.stop({ id });
    await waitFor(async () => (await record()) === 'SERVICE_PHASE_STOPPED', { what: 'STOPPED' });
    for (let index = 1; index < versions.length; index++) expect(versions[index]! > versions[index - 1]!).toBe(true);
    expect(phases).toContain('SERVICE_PHASE_RUNNING');

    await td.stop();
    const again = await startTestDaemon(dirs);
    await again.client.environments.automations.services.start({ id });
    const running = await waitPhase(again.client, id, 'SERVICE_PHASE_RUNNING');
    expect(BigInt(running.status!.statusVersion!) > versions.at(-1)!).toBe(true);
  });

  it('a restarted daemon keeps every service, its spec and the environment id', async () => {
    const root = tempDir();
    const dirs = { workspace: join(root, 'ws'), stateDir: join(root, 'state') };
    const td = await startTestDaemon(dirs);
    const ids = [];
    for (const reference of ['api', 'db', 'worker']) {
      ids.push(await createService(td.client, reference, { start: `exec sleep 60`, stop: 'true' }, { env: [{ name: 'REF', value: reference }] }));
    }
    await td.client.environments.automations.services.start({ id: ids[0]! });
    await waitPhase(td.client, ids[0]!, 'SERVICE_PHASE_RUNNING');
    const before = (await td.call('ListServices', {})).body.services;
    const environmentId = td.daemon.info.environmentId;
    await td.stop();

    const again = await startTestDaemon(dirs);
    expect(again.daemon.info.environmentId).toBe(environmentId);
    expect(again.daemon.token).toBe(td.daemon.token);
    const after = (await again.call('ListServices', {})).body.services;
    expect(after.map((s: any) => s.id)).toEqual(before.map((s: any) => s.id));
    expect(after.map((s: any) => s.spec.env)).toEqual(before.map((s: any) => s.spec.env));
    // The daemon stopped its services on the way down; none restarts by itself.
    expect(after.map((s: any) => s.status.phase)).toEqual(['SERVICE_PHASE_STOPPED', 'SERVICE_PHASE_STOPPED', 'SERVICE_PHASE_STOPPED']);
  });

  it('a service created with desiredPhase RUNNING starts at once', async () => {
    const td = await startTestDaemon();
    const id = await createService(td.client, 'eager', { start: 'exec sleep 60' }, { desiredPhase: 'SERVICE_PHASE_RUNNING' });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
  });
});

describe('after a daemon crash', () => {
  it('a service that was running is re-adopted by the next daemon: same pid, still RUNNING', async () => {
    const { spawnDaemon } = await import('./helpers/cli.js');
    const { readFileSync } = await import('node:fs');
    const root = tempDir();
    const stateDir = join(root, 'state');
    const pidFile = join(root, 'svc.pid');
    const crashed = await spawnDaemon(['--workspace', root], stateDir);
    const headers = { authorization: `Bearer ${readFileSync(join(stateDir, 'token'), 'utf8').trim()}`, 'content-type': 'application/json' };
    const api = async (method: string, body: unknown) =>
      (await (await fetch(`${crashed.info.url}/gitpod.v1.EnvironmentAutomationService/${method}`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as any;
    const { service } = await api('CreateService', { metadata: { reference: 'web' }, spec: { commands: { start: `echo $$ > ${pidFile}; exec sleep 60` } } });
    await api('StartService', { id: service.id });
    const pid = await readPidFile(pidFile);
    await waitFor(async () => (await api('GetService', { id: service.id })).service.status.phase === 'SERVICE_PHASE_RUNNING');
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(pidAlive(pid)).toBe(true);

    const again = await startTestDaemon({ stateDir, workspace: join(root, 'ws') });
    const recovered = await getService(again.client, service.id);
    expect(recovered.status?.phase).toBe('SERVICE_PHASE_RUNNING');
    expect(pidAlive(pid)).toBe(true);
    await again.client.environments.automations.services.stop({ id: service.id });
    await waitPhase(again.client, service.id, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(pid)).toBe(false);
  });
});
