/**
 * Request bodies as any proto3 JSON client writes them (the official SDK where it can send them,
 * raw HTTP for the shapes a Go or Python protojson client sends): null is "not set", proto names
 * and enum numbers are read, 64-bit integers as strings or numbers, unknown fields are dropped
 * (the automations file stays strict), ids that cannot be ids are invalid arguments, and nesting
 * is bounded.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { createService, getService } from './helpers/services.js';
import { createTask } from './helpers/tasks.js';

async function snapshot(td: TestDaemon): Promise<string> {
  const services = (await td.call('ListServices', { pagination: { pageSize: 100 } })).body;
  const tasks = (await td.call('ListTasks', { pagination: { pageSize: 100 } })).body;
  return JSON.stringify([services, tasks]);
}

async function post(td: TestDaemon, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${td.daemon.info.url}/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('proto3 JSON requests', () => {
  it('dates every answer once with an HTTP date of its second, answers and errors alike', async () => {
    const td = await startTestDaemon();
    const before = Math.floor(Date.now() / 1000) * 1000;
    const headers = { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/json' };
    const answered = await fetch(`${td.daemon.info.url}/gitpod.v1.EnvironmentAutomationService/ListServices`, { method: 'POST', headers, body: '{}' });
    const refused = await fetch(`${td.daemon.info.url}/gitpod.v1.EnvironmentAutomationService/NoSuchMethod`, { method: 'POST', headers, body: '{}' });
    const after = Date.now();
    expect([answered.status, refused.status]).toEqual([200, 501]);
    for (const response of [answered, refused]) {
      await response.arrayBuffer();
      // One header (two would be joined with a comma), in RFC 9110's IMF-fixdate.
      const date = response.headers.get('date') ?? '';
      expect(date).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      expect(Date.parse(date)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(date)).toBeLessThanOrEqual(after);
    }
  });

  it('takes null as "not set", from the SDK and from raw JSON; a null list element is still refused', async () => {
    const td = await startTestDaemon();
    const services = td.client.environments.automations.services;
    const tasks = td.client.environments.automations.tasks;
    const serviceId = await createService(td.client, 'web', { start: 'exec sleep 60' });
    await services.update({ id: serviceId, metadata: { description: 'kept', name: 'before' } });
    // The SDK's own types allow null here.
    await services.update({ id: serviceId, metadata: { description: null, name: 'after' }, spec: { commands: null, runsOn: null } });
    const service = await getService(td.client, serviceId);
    expect(service.metadata).toMatchObject({ name: 'after', description: 'kept' });
    expect(service.spec?.commands?.start).toBe('exec sleep 60');

    const taskId = await createTask(td.client, 'build', 'echo built');
    await tasks.update({ id: taskId, metadata: { description: null, name: 'Build' }, spec: { command: null } });
    const { task } = await tasks.retrieve({ id: taskId });
    expect(task?.metadata?.name).toBe('Build');
    expect(task?.spec?.command).toBe('echo built');

    const created = await td.call('CreateService', {
      metadata: { reference: 'nulls', description: null, role: null },
      spec: { commands: { start: 'true', ready: null }, env: null, runsOn: { docker: { image: 'alpine', environment: null } } },
    });
    expect(created.status).toBe(200);
    expect(created.body.service.metadata.description).toBeUndefined();
    expect(created.body.service.spec.runsOn).toEqual({ docker: { image: 'alpine' } });
    const listed = await td.call('ListServices', { filter: null, pagination: null });
    expect(listed.body.services.map((item: any) => item.metadata.reference)).toEqual(['web', 'nulls']);

    const before = await snapshot(td);
    const refused = await td.call('CreateService', { metadata: { reference: 'bad' }, spec: { commands: { start: 'true' }, env: [null] } });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('"spec.env[0]"');
    expect(await snapshot(td)).toBe(before);
  });

  it('reads proto field names, enum numbers and 64-bit integers as strings or numbers', async () => {
    const td = await startTestDaemon();
    const environmentId = td.daemon.info.environmentId;
    const proto = await td.call('CreateService', {
      environment_id: environmentId,
      metadata: { reference: 'proto', role: 3, triggered_by: [{ manual: true }] },
      spec: { commands: { start: 'true' }, desired_phase: 4, spec_version: 5, runs_on: { docker: { image: 'alpine' } }, readiness_timeout: '30s' },
    });
    expect(proto.status).toBe(200);
    const camel = await td.call('CreateService', {
      environmentId,
      metadata: { reference: 'camel', role: 'SERVICE_ROLE_AI_AGENT', triggeredBy: [{ manual: true }] },
      spec: { commands: { start: 'true' }, desiredPhase: 'SERVICE_PHASE_STOPPED', specVersion: '5', runsOn: { docker: { image: 'alpine' } }, readinessTimeout: '30s' },
    });
    const shape = (service: any) => ({ metadata: { ...service.metadata, reference: '', createdAt: '' }, spec: { ...service.spec, specVersion: '' } });
    expect(shape(proto.body.service)).toEqual(shape(camel.body.service));
    expect(proto.body.service.metadata.role).toBe('SERVICE_ROLE_AI_AGENT');

    const listed = await td.call('ListServices', { filter: { service_ids: [proto.body.service.id], roles: [3] }, pagination: { page_size: '1' } });
    expect(listed.status).toBe(200);
    expect(listed.body.services.map((service: any) => service.metadata.reference)).toEqual(['proto']);
    const paged = await td.call('ListServices', { pagination: { pageSize: '1' } });
    expect(paged.body.services).toHaveLength(1);
    expect(paged.body.pagination.nextToken).not.toBe('');

    const runnerEnum = await td.call('ListTaskExecutions', { filter: { phases: [1, 'TASK_EXECUTION_PHASE_RUNNING'] } });
    expect(runnerEnum.status).toBe(200);

    const before = await snapshot(td);
    const unknownNumber = await td.call('CreateService', { metadata: { reference: 'x', role: 99 }, spec: { commands: { start: 'true' } } });
    expect(unknownNumber.status).toBe(400);
    expect(unknownNumber.body.message).toContain('"metadata.role"');
    const twice = await td.call('CreateService', { environmentId, environment_id: environmentId, metadata: { reference: 'x' }, spec: { commands: { start: 'true' } } });
    expect(twice.status).toBe(400);
    expect(twice.body.message).toContain('"environmentId" was sent twice');
    const notAnInteger = await td.call('ListServices', { pagination: { pageSize: 'two' } });
    expect(notAnInteger.status).toBe(400);
    expect(await snapshot(td)).toBe(before);
  });

  it('drops fields it does not know, in any request; the automations file keeps them errors', async () => {
    const td = await startTestDaemon();
    const created = await td.call('CreateService', {
      futureField: 1,
      metadata: { reference: 'later', futureNested: { deep: [1, 2] } },
      spec: { commands: { start: 'true', futureCommand: 'x' }, colour: 'red', runsOn: { machine: { size: 'xl' } } },
    });
    expect(created.status).toBe(200);
    const stored = await getService(td.client, created.body.service.id);
    expect(JSON.stringify(stored)).not.toMatch(/future|colour|size/);
    expect(stored.spec?.runsOn).toEqual({ machine: {} });

    const upsert = await td.call('UpsertAutomationsFile', {
      automations_file: { services: { web: { commands: { start: 'exec sleep 60' }, triggered_by: ['manual'] } } },
      futureField: true,
    });
    expect(upsert.status).toBe(200);
    expect((await td.call('ListServices', { filter: { references: ['web'] } })).body.services[0].metadata.triggeredBy).toEqual([{ manual: true }]);

    const before = await snapshot(td);
    const strict = await td.call('UpsertAutomationsFile', {
      automationsFile: { services: { web: { commands: { start: 'x' }, colour: 'red', runsOn: { machine: { size: 'xl' } } } } },
    });
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('services.web.colour: Unknown field "colour"');
    expect(strict.body.message).toContain('services.web.runsOn.machine.size: Unknown field "size"');
    expect(await snapshot(td)).toBe(before);

    // The other services' requests read the same way: a field of a newer proto is no error.
    const watch = await fetch(`${td.daemon.info.url}/gitpod.v1.EventService/WatchEvents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ environment_id: td.daemon.info.environmentId, resourceTypeFilters: [] }),
    });
    expect(watch.status).toBe(200);
    await watch.body?.cancel();
    const logsToken = await post(td, 'gitpod.v1.EnvironmentService/CreateEnvironmentLogsToken', JSON.stringify({ environmentId: td.daemon.info.environmentId, extra: 1 }));
    expect(logsToken.status).toBe(200);
    expect(logsToken.body.accessToken).toMatch(/^logs_/);
  });

  it('refuses a body nested deeper than 64 levels, and a runsOn that is both docker and machine, changing nothing', async () => {
    const td = await startTestDaemon();
    const taskId = await createTask(td.client, 'ok', 'true', [], { runsOn: { machine: {} } });
    const before = await snapshot(td);
    // 4,100 levels in about 8 KB, where the reference has an empty message; and one level too many.
    const body = `{"metadata":{"reference":"deep"},"spec":{"command":"true","runsOn":{"machine":${'['.repeat(4100)}${']'.repeat(4100)}}}}`;
    expect(Buffer.byteLength(body)).toBeLessThan(9 * 1024);
    const justOver = `{"metadata":{"reference":"deep","x":${'{"a":'.repeat(63)}1${'}'.repeat(63)}},"spec":{"command":"true"}}`;
    const justUnder = `{"metadata":{"reference":"deep","x":${'{"a":'.repeat(62)}1${'}'.repeat(62)}},"spec":{"command":"true"}}`;
    for (const raw of [body, justOver]) {
      const answer = await post(td, 'gitpod.v1.EnvironmentAutomationService/CreateTask', raw);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'invalid_argument' });
      expect(answer.body.message).toContain('nests more than 64 levels');
    }
    const both = await td.call('CreateTask', { metadata: { reference: 'both' }, spec: { command: 'true', runsOn: { docker: { image: 'alpine' }, machine: {} } } });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('"spec.runsOn"');
    expect(await snapshot(td)).toBe(before);
    expect((await post(td, 'gitpod.v1.EnvironmentAutomationService/CreateTask', justUnder)).status).toBe(200);
    // Everything still works for everyone.
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: taskId });
    expect(taskExecution?.id).toBeDefined();
    expect((await td.call('ListTaskExecutions', {})).status).toBe(200);
    const fired = await post(td, 'tend.v1.DaemonService/FireTrigger', JSON.stringify({ triggers: ['manual'] }));
    expect(fired.status).toBe(200);
  });
});

describe('ids', () => {
  it('an id that is not a UUID is invalid_argument for every method; an unknown UUID is not_found', async () => {
    const td = await startTestDaemon();
    const { services, tasks } = td.client.environments.automations;
    const calls: Array<[string, (id: string) => Promise<unknown>]> = [
      ['services.retrieve', (id) => services.retrieve({ id })],
      ['services.start', (id) => services.start({ id })],
      ['services.stop', (id) => services.stop({ id })],
      ['services.delete', (id) => services.delete({ id })],
      ['services.update', (id) => services.update({ id, metadata: { name: 'x' } })],
      ['tasks.retrieve', (id) => tasks.retrieve({ id })],
      ['tasks.update', (id) => tasks.update({ id, metadata: { name: 'x' } })],
      ['tasks.delete', (id) => tasks.delete({ id })],
      ['tasks.start', (id) => tasks.start({ id })],
      ['executions.retrieve', (id) => tasks.executions.retrieve({ id })],
      ['executions.stop', (id) => tasks.executions.stop({ id })],
    ];
    for (const [name, call] of calls) {
      await expect(call('abc'), name).rejects.toMatchObject({ status: 400, error: { code: 'invalid_argument', message: expect.stringContaining('ids are UUIDs') } });
      await expect(call(randomUUID()), name).rejects.toMatchObject({ status: 404 });
    }
    await expect(services.list({ filter: { environmentIds: ['abc'] } })).resolves.toBeDefined();
    const otherEnvironment = await td.call('CreateService', { environmentId: 'abc', metadata: { reference: 'x' }, spec: { commands: { start: 'true' } } });
    expect(otherEnvironment.status).toBe(400);
    expect(otherEnvironment.body.message).toContain('Invalid "environmentId" "abc"');
    const dependency = await td.call('CreateTask', { metadata: { reference: 'x' }, spec: { command: 'true' }, dependsOn: ['web'] });
    expect(dependency.status).toBe(400);
    expect(dependency.body.message).toContain('ids are UUIDs');
  });

  it('refuses a secret id that cannot be one when the resource is created; a UUID is one', async () => {
    const td = await startTestDaemon();
    const env = (id: string) => [{ name: 'TOKEN', valueFrom: { secretRef: { id } } }];
    for (const id of ['../x', 'a b', '.hidden', 'x'.repeat(129)]) {
      await expect(createService(td.client, `s${id.length}`, { start: 'true' }, { env: env(id) }), id).rejects.toMatchObject({
        status: 400,
        error: { message: expect.stringContaining('Invalid "spec.env[0].valueFrom.secretRef.id"') },
      });
      await expect(createTask(td.client, `t${id.length}`, 'true', [], { env: env(id) }), id).rejects.toMatchObject({ status: 400 });
    }
    expect(await createService(td.client, 'uuid', { start: 'true' }, { env: env(randomUUID()) })).toBeDefined();
    expect(await createTask(td.client, 'named', 'true', [], { env: env('db-password.txt') })).toBeDefined();
  });
});

describe('runsOn', () => {
  it('refuses docker without an image (or with one that cannot be) at create and update, storing nothing', async () => {
    const td = await startTestDaemon();
    const { services, tasks } = td.client.environments.automations;
    const serviceId = await createService(td.client, 'web', { start: 'true' });
    const taskId = await createTask(td.client, 'build', 'true');
    const before = await snapshot(td);
    for (const docker of [{}, { image: ' ' }, { image: 'has space:1' }, { image: '/abs' }]) {
      const expected = { status: 400, error: { code: 'invalid_argument', message: expect.stringContaining('"spec.runsOn.docker.image"') } };
      const runsOn = { docker } as { docker: { image?: string } };
      await expect(createService(td.client, 'd', { start: 'true' }, { runsOn }), JSON.stringify(docker)).rejects.toMatchObject(expected);
      await expect(services.update({ id: serviceId, spec: { runsOn } })).rejects.toMatchObject(expected);
      await expect(createTask(td.client, 'd', 'true', [], { runsOn })).rejects.toMatchObject(expected);
      await expect(tasks.update({ id: taskId, spec: { runsOn } })).rejects.toMatchObject(expected);
    }
    expect(await snapshot(td)).toBe(before);
  });
});
