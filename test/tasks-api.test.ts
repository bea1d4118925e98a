import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { createService, pidAlive, readPidFile } from './helpers/services.js';
import { createTask, getExecution, waitExecution } from './helpers/tasks.js';
import { waitFor } from './helpers/wait.js';

async function snapshot(td: TestDaemon): Promise<string> {
  const tasks = await td.call('ListTasks', { pagination: { pageSize: 100 } });
  const executions = await td.call('ListTaskExecutions', { pagination: { pageSize: 100 } });
  const services = await td.call('ListServices', { pagination: { pageSize: 100 } });
  return JSON.stringify([tasks.body, executions.body, services.body]);
}

async function expectRefused(td: TestDaemon, method: string, body: unknown, code: string, message: RegExp): Promise<void> {
  const before = await snapshot(td);
  const response = await td.call(method, body);
  expect(response.body.code, JSON.stringify(response.body)).toBe(code);
  expect(response.body.message).toMatch(message);
  expect(await snapshot(td)).toBe(before);
}

describe('tasks API', () => {
  it('refuses unknown dependencies, cycles, bad filters and unknown ids, changing nothing', async () => {
    const td = await startTestDaemon();
    const a = await createTask(td.client, 'a', 'true');
    const b = await createTask(td.client, 'b', 'true', [a]);
    const c = await createTask(td.client, 'c', 'true', [b]);
    const unknown = '00000000-0000-4000-8000-000000000000';
    await expectRefused(td, 'CreateTask', { metadata: { reference: 'x' }, spec: { command: 'true' }, dependsOn: [unknown] }, 'invalid_argument', /Unknown dependency "00000000-.*" in "dependsOn" of task "x"/);
    await expectRefused(td, 'UpdateTask', { id: a, dependsOn: [c] }, 'invalid_argument', /^Dependency cycle: "a" → "c" → "b" → "a"$/);
    await expectRefused(td, 'UpdateTask', { id: a, dependsOn: [a] }, 'invalid_argument', /^Dependency cycle: "a" → "a"$/);
    await expectRefused(td, 'UpdateTask', { id: a, spec: { command: '' } }, 'invalid_argument', /needs a command/);
    await expectRefused(td, 'CreateTask', { metadata: { reference: 'a' }, spec: { command: 'true' } }, 'already_exists', /reference "a" already exists/);
    await expectRefused(td, 'CreateTask', { metadata: { reference: 'nocmd' }, spec: {} }, 'invalid_argument', /Missing "spec.command"/);
    await expectRefused(td, 'CreateTask', { metadata: { reference: 'bad ref' }, spec: { command: 'x' } }, 'invalid_argument', /must match/);
    await expectRefused(td, 'DeleteTask', { id: a }, 'failed_precondition', /Cannot delete task "a": "b" depends on it/);
    await expectRefused(td, 'ListTaskExecutions', { filter: { phases: ['TASK_EXECUTION_PHASE_DONE'] } }, 'invalid_argument', /"filter\.phases\[0\]": Invalid option/);
    await expectRefused(td, 'GetTaskExecution', { id: unknown }, 'not_found', /Task execution "00000000-.*" not found/);
    await expectRefused(td, 'StopTaskExecution', { id: unknown }, 'not_found', /not found/);
    await expectRefused(td, 'StartTask', { id: unknown }, 'not_found', /Task "00000000-.*" not found/);
    await expectRefused(td, 'GetTask', {}, 'invalid_argument', /Missing "id"/);

    const svc = await createService(td.client, 'db', { start: 'true' });
    await td.call('UpdateTask', { id: c, dependsOn: [b, svc] });
    await expectRefused(td, 'DeleteService', { id: svc }, 'failed_precondition', /Cannot delete service "db": "c" depends on it/);

    // Allowed changes go through: clearing dependencies, then deleting in order.
    expect((await td.call('UpdateTask', { id: c, dependsOn: [] })).status).toBe(200);
    expect((await td.call('DeleteTask', { id: c })).status).toBe(200);
    expect((await td.call('DeleteTask', { id: b })).status).toBe(200);
    expect((await td.call('GetTask', { id: b })).body.code).toBe('not_found');
  });

  it('lists tasks and executions with filters and pages, executions newest first', async () => {
    const td = await startTestDaemon();
    const ok = await createTask(td.client, 'ok', 'true');
    const bad = await createTask(td.client, 'bad', 'false');
    const ids = [];
    for (let index = 0; index < 3; index++) {
      ids.push((await td.client.environments.automations.tasks.start({ id: ok })).taskExecution.id);
      await waitExecution(td.client, ids.at(-1)!);
    }
    const failed = (await td.client.environments.automations.tasks.start({ id: bad })).taskExecution.id;
    await waitExecution(td.client, failed);

    const all = await td.call('ListTaskExecutions', {});
    expect(all.body.taskExecutions.map((e: any) => e.id)).toEqual([failed, ...ids.reverse()]);
    const byPhase = await td.call('ListTaskExecutions', { filter: { phases: ['TASK_EXECUTION_PHASE_FAILED'] } });
    expect(byPhase.body.taskExecutions.map((e: any) => e.id)).toEqual([failed]);
    const byRef = await td.call('ListTaskExecutions', { filter: { taskReferences: ['ok'] } });
    expect(byRef.body.taskExecutions).toHaveLength(3);
    const byTask = await td.call('ListTaskExecutions', { filter: { taskIds: [bad] } });
    expect(byTask.body.taskExecutions).toHaveLength(1);
    const otherEnv = await td.call('ListTaskExecutions', { filter: { environmentIds: ['elsewhere'] } });
    expect(otherEnv.body.taskExecutions).toEqual([]);
    const paged: string[] = [];
    for await (const execution of td.client.environments.automations.tasks.executions.list({ pageSize: 3 })) paged.push(execution.id);
    expect(paged).toHaveLength(4);
    const tasks = await td.call('ListTasks', { filter: { references: ['bad'] } });
    expect(tasks.body.tasks.map((t: any) => t.id)).toEqual([bad]);
  });

  it('keeps the history across a daemon restart, and prunes beyond the retention limit', async () => {
    const root = tempDir();
    const dirs = { workspace: join(root, 'ws'), stateDir: join(root, 'state') };
    const td = await startTestDaemon({ ...dirs, maxExecutions: 3 });
    const id = await createTask(td.client, 'echo', 'echo hello; echo "n=1" >> $GITPOD_OUTPUT');
    const first = await waitExecution(td.client, (await td.client.environments.automations.tasks.start({ id })).taskExecution.id);
    // Its GITPOD_OUTPUT was read into its status and removed; the directory goes with the execution.
    await waitFor(() => readdirSync(join(dirs.stateDir, 'outputs', first.id)).length === 0, { what: 'its outputs file removed' });
    await td.stop();

    const again = await startTestDaemon({ ...dirs, maxExecutions: 3 });
    const kept = await getExecution(again.client, first.id);
    expect(kept.status).toEqual(first.status);
    expect(kept.spec).toEqual(first.spec);
    expect(kept.metadata).toEqual(first.metadata);
    const log = await (await fetch(`${again.daemon.info.url}/logs/${first.id}?follow=false`, { headers: { authorization: `Bearer ${again.daemon.token}` } })).text();
    expect(log).toBe('hello\n');

    for (let index = 0; index < 4; index++) {
      await waitExecution(again.client, (await again.client.environments.automations.tasks.start({ id })).taskExecution.id);
    }
    const listed = await again.call('ListTaskExecutions', {});
    expect(listed.body.taskExecutions).toHaveLength(3);
    expect((await again.call('GetTaskExecution', { id: first.id })).body.code).toBe('not_found');
    expect(existsSync(join(dirs.stateDir, 'outputs', first.id))).toBe(false);
    expect((await fetch(`${again.daemon.info.url}/logs/${first.id}`, { headers: { authorization: `Bearer ${again.daemon.token}` } })).status).toBe(404);
  });

  it('an execution running when the daemon was killed ends FAILED after restart, its processes gone', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const workspace = join(root, 'ws');
    const pidFile = join(root, 'step.pid');
    const crashed = await spawnDaemon(['--workspace', root], stateDir);
    const headers = { authorization: `Bearer ${(await import('node:fs')).readFileSync(join(stateDir, 'token'), 'utf8').trim()}`, 'content-type': 'application/json' };
    const api = async (method: string, body: unknown) =>
      (await fetch(`${crashed.info.url}/gitpod.v1.EnvironmentAutomationService/${method}`, { method: 'POST', headers, body: JSON.stringify(body) })).json() as Promise<any>;
    const { task } = await api('CreateTask', { metadata: { reference: 'long' }, spec: { command: `echo $$ > ${pidFile}; exec sleep 60` } });
    const { taskExecution } = await api('StartTask', { id: task.id });
    const pid = await readPidFile(pidFile);
    await waitFor(async () => (await api('GetTaskExecution', { id: taskExecution.id })).taskExecution.status.phase === 'TASK_EXECUTION_PHASE_RUNNING');
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(pidAlive(pid)).toBe(true);

    const again = await startTestDaemon({ stateDir, workspace });
    const recovered = await getExecution(again.client, taskExecution.id);
    expect(recovered.status.phase).toBe('TASK_EXECUTION_PHASE_FAILED');
    expect(recovered.status.failureMessage).toContain('The tend daemon stopped while this execution was running');
    expect(recovered.status.steps[0]!.phase).toBe('TASK_EXECUTION_PHASE_FAILED');
    expect(pidAlive(pid)).toBe(false);
  });

  it('a daemon shutdown stops running executions: they end STOPPED', async () => {
    const td = await startTestDaemon();
    const id = await createTask(td.client, 'long', 'exec sleep 60');
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id });
    await waitExecution(td.client, taskExecution.id, 'TASK_EXECUTION_PHASE_RUNNING');
    await td.stop();
    const again = await startTestDaemon({ stateDir: td.stateDir, workspace: td.workspace });
    expect((await getExecution(again.client, taskExecution.id)).status.phase).toBe('TASK_EXECUTION_PHASE_STOPPED');
  });
});
