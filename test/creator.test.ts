/**
 * `metadata.creator` is the server's: the caller's principal for API calls (PRINCIPAL_USER with
 * the owner id of the daemon's token, kept in the state directory; PRINCIPAL_RUNNER for a
 * serve-only daemon's runner token), PRINCIPAL_ENVIRONMENT with the environment id for what the
 * watched automations file and triggers make. A creator a client sends is ignored.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gitpod } from '@gitpod/sdk';
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from './helpers/daemon.js';
import { getService } from './helpers/services.js';
import { createTask, getExecution, waitExecution } from './helpers/tasks.js';
import { waitFor } from './helpers/wait.js';

describe('metadata.creator', () => {
  it('is the token owner for API calls, with an id kept across restarts; a client-sent creator is ignored', async () => {
    const first = await startTestDaemon();
    const ownerId = readFileSync(join(first.stateDir, 'owner-id'), 'utf8').trim();
    expect(ownerId).toMatch(/^[0-9a-f-]{36}$/);
    const user = { id: ownerId, principal: 'PRINCIPAL_USER' };
    const { service } = await first.client.environments.automations.services.create({
      metadata: { reference: 'web', creator: { id: 'forged', principal: 'PRINCIPAL_RUNNER' }, createdAt: '2001-01-01T00:00:00Z' },
      spec: { commands: { start: 'true' } },
    });
    expect(service?.metadata?.creator).toEqual(user);
    expect(service?.metadata?.createdAt).not.toBe('2001-01-01T00:00:00Z');
    const { task } = await first.client.environments.automations.tasks.create({
      metadata: { reference: 'build', creator: { id: 'forged', principal: 'PRINCIPAL_ACCOUNT' } },
      spec: { command: 'true' },
    });
    expect(task?.metadata?.creator).toEqual(user);
    const { taskExecution } = await first.client.environments.automations.tasks.start({ id: task!.id! });
    expect(taskExecution?.metadata?.creator).toEqual(user);
    await first.client.environments.automations.upsert({ automationsFile: { services: { fromFile: { commands: { start: 'true' } } } } });
    const upserted = (await first.call('ListServices', { filter: { references: ['fromFile'] } })).body.services[0];
    expect(upserted.metadata.creator).toEqual(user);
    await first.stop();

    const second = await startTestDaemon({ stateDir: first.stateDir, workspace: first.workspace });
    expect((await getService(second.client, service!.id!)).metadata?.creator).toEqual(user);
    const { task: later } = await second.client.environments.automations.tasks.create({ metadata: { reference: 'later' }, spec: { command: 'true' } });
    expect(later?.metadata?.creator).toEqual(user);
  });

  it('is the environment for what the watched file and the triggers make', async () => {
    const root = await startTestDaemon();
    await root.stop();
    const file = join(root.workspace, 'automations.yaml');
    writeFileSync(file, 'services:\n  web:\n    commands:\n      start: exec sleep 60\n    triggeredBy: [postEnvironmentStart]\ntasks:\n  setup:\n    command: "true"\n    triggeredBy: [postEnvironmentStart, manual]\n');
    const td = await startTestDaemon({ stateDir: root.stateDir, workspace: root.workspace, automationsFile: file, startTriggers: ['postEnvironmentStart'] });
    const environment = { id: td.daemon.info.environmentId, principal: 'PRINCIPAL_ENVIRONMENT' };
    const [web] = (await td.call('ListServices', {})).body.services;
    expect(web.metadata.creator).toEqual(environment);
    const [setup] = (await td.call('ListTasks', {})).body.tasks;
    expect(setup.metadata.creator).toEqual(environment);
    const [execution] = await waitFor(async () => {
      const { taskExecutions } = (await td.call('ListTaskExecutions', {})).body;
      return taskExecutions.length > 0 ? taskExecutions : undefined;
    }, { what: 'the triggered execution' });
    expect(execution.metadata.creator).toEqual(environment);
    // FireTrigger is a trigger too, whoever calls it.
    const fired = await fetch(`${td.daemon.info.url}/tend.v1.DaemonService/FireTrigger`, {
      method: 'POST',
      headers: { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ triggers: ['manual'] }),
    });
    const { executionIds } = (await fired.json()) as { executionIds: string[] };
    expect((await getExecution(td.client, executionIds[0]!)).metadata.creator).toEqual(environment);
    await waitExecution(td.client, executionIds[0]!);
  });

  it("is the runner for calls with a serve-only daemon's runner token", async () => {
    const cp = await startTestDaemon({ serveOnly: true });
    const runnerId = readFileSync(join(cp.stateDir, 'runner-id'), 'utf8').trim();
    const runner = new Gitpod({ baseURL: cp.daemon.info.url, bearerToken: cp.daemon.runnerToken!, maxRetries: 0 });
    const id = await createTask(runner, 'from-runner', 'true');
    const { task } = await cp.client.environments.automations.tasks.retrieve({ id });
    expect(task?.metadata?.creator).toEqual({ id: runnerId, principal: 'PRINCIPAL_RUNNER' });
  });
});
