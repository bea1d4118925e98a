import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, runService } from '@gitpod/sdk/lib/automation';
import { describe, expect, it } from 'vitest';
import { AUTOMATION_METHODS } from '../src/domain/methods.js';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, waitPhase } from './helpers/services.js';
import { createTask, waitExecution } from './helpers/tasks.js';
import { waitFor } from './helpers/wait.js';

async function collect(lines: AsyncGenerator<string>, limit = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) {
    out.push(line);
    if (out.length >= limit) break;
  }
  return out;
}

describe('the official SDK helpers, unchanged', () => {
  it('runCommand yields the output of a command and ends', async () => {
    const { client, daemon } = await startTestDaemon();
    const env = daemon.info.environmentId;
    expect(await collect(await runCommand(client, env, 'echo hello'))).toEqual(['hello']);
    // The second call updates the SDK's task and runs the new command.
    expect(await collect(await runCommand(client, env, 'echo one; echo two >&2; echo three'))).toEqual(['one', 'two', 'three']);
  });

  it('runService starts a service with a ready command and yields its output', async () => {
    const { client, daemon, workspace } = await startTestDaemon();
    const flag = join(workspace, 'later');
    const lines = await runService(
      client,
      daemon.info.environmentId,
      { reference: 'sdk-web', name: 'Web' },
      { commands: { start: `echo started; while [ ! -f ${flag} ]; do sleep 0.02; done; echo later; exec sleep 60`, ready: 'true' } },
    );
    const iterator = lines[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe('started');
    writeFileSync(flag, '');
    expect((await iterator.next()).value).toBe('later');
    await iterator.return?.(undefined);
  });

  it('events.watch sees CREATE, UPDATE_STATUS and DELETE of a service and an execution, in order', async () => {
    const { client, daemon } = await startTestDaemon();
    const controller = new AbortController();
    const stream = await client.events.watch({ environmentId: daemon.info.environmentId }, { signal: controller.signal });
    const seen: Array<{ operation: string; resourceType: string; resourceId: string }> = [];
    const reading = (async () => {
      try {
        for await (const event of stream) seen.push(event as any);
      } catch {
        // aborted
      }
    })();

    const service = await createService(client, 'watched', { start: 'exec sleep 60', ready: 'true' });
    await client.environments.automations.services.start({ id: service });
    await waitPhase(client, service, 'SERVICE_PHASE_RUNNING');
    await client.environments.automations.services.delete({ id: service });
    const task = await createTask(client, 'watched-task', 'true');
    const { taskExecution } = await client.environments.automations.tasks.start({ id: task });
    await waitExecution(client, taskExecution.id);
    await waitFor(() => seen.some((event) => event.resourceId === service && event.operation === 'RESOURCE_OPERATION_DELETE'), { what: 'the DELETE event' });
    await waitFor(
      () => seen.filter((event) => event.resourceId === taskExecution.id && event.operation === 'RESOURCE_OPERATION_UPDATE_STATUS').length >= 2,
      { what: 'the execution status events' },
    );
    controller.abort();
    await reading;

    const of = (id: string) => seen.filter((event) => event.resourceId === id).map((event) => event.operation.replace('RESOURCE_OPERATION_', ''));
    const serviceOps = of(service);
    expect(serviceOps[0]).toBe('CREATE');
    expect(serviceOps.at(-1)).toBe('DELETE');
    expect(serviceOps.filter((op) => op === 'UPDATE_STATUS').length).toBeGreaterThanOrEqual(3); // starting, running, stopping/stopped
    expect(seen.find((event) => event.resourceId === service)!.resourceType).toBe('RESOURCE_TYPE_SERVICE');
    expect(of(task)).toEqual(['CREATE']);
    const executionOps = of(taskExecution.id);
    expect(executionOps[0]).toBe('CREATE');
    expect(executionOps.slice(1).every((op) => op === 'UPDATE_STATUS')).toBe(true);
    expect(seen.find((event) => event.resourceId === taskExecution.id)!.resourceType).toBe('RESOURCE_TYPE_TASK_EXECUTION');
  });

  it('sends UPDATE_STATUS only when a status changed', async () => {
    const { client, daemon, call } = await startTestDaemon();
    const service = await createService(client, 'quiet', { start: 'exec sleep 60' });
    const controller = new AbortController();
    const stream = await client.events.watch({ environmentId: daemon.info.environmentId }, { signal: controller.signal });
    const seen: string[] = [];
    const reading = (async () => {
      try {
        for await (const event of stream) if ((event as any).resourceId === service) seen.push((event as any).operation);
      } catch {
        // aborted
      }
    })();
    // Metadata changes are UPDATE, not UPDATE_STATUS; a start that changes nothing sends nothing.
    await call('UpdateService', { id: service, metadata: { name: 'renamed' } });
    await client.environments.automations.services.start({ id: service });
    await waitPhase(client, service, 'SERVICE_PHASE_RUNNING');
    await client.environments.automations.services.start({ id: service });
    await call('UpdateService', { id: service, metadata: { description: 'marker' } });
    await waitFor(() => seen.filter((op) => op === 'RESOURCE_OPERATION_UPDATE').length === 3, { what: 'the marker update' });
    controller.abort();
    await reading;
    expect(seen).toEqual([
      'RESOURCE_OPERATION_UPDATE', // name
      'RESOURCE_OPERATION_UPDATE', // desiredPhase RUNNING, new session
      'RESOURCE_OPERATION_UPDATE_STATUS', // RUNNING
      'RESOURCE_OPERATION_UPDATE', // description
    ]);
  });

  it('a logs token reads logs and is refused by every other method', async () => {
    const { client, daemon } = await startTestDaemon();
    const { accessToken } = await client.environments.createLogsToken({ environmentId: daemon.info.environmentId });
    const id = await createTask(client, 'echoer', 'echo secretless');
    const execution = await waitExecution(client, (await client.environments.automations.tasks.start({ id })).taskExecution.id);
    const read = await fetch(execution.status.logUrl!, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('secretless\n');

    const paths = [
      ...AUTOMATION_METHODS.map((method) => `/gitpod.v1.EnvironmentAutomationService/${method}`),
      '/gitpod.v1.EventService/WatchEvents',
      '/gitpod.v1.EnvironmentService/CreateEnvironmentLogsToken',
      '/tend.v1.DaemonService/GetStatus',
      '/tend.v1.DaemonService/FireTrigger',
    ];
    for (const path of paths) {
      const response = await fetch(`${daemon.info.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as any).code, path).toBe('permission_denied');
    }
    const wrong = await fetch(execution.status.logUrl!, { headers: { authorization: 'Bearer logs_nope' } });
    expect(wrong.status).toBe(401);
  });
});
