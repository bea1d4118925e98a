/**
 * What a status says, and when: an execution is FAILED as soon as a step fails (the rest of its
 * group still finishes and is reported, later groups never start, and it has ended only when
 * they have); `logUrl` appears once there is something to read.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, waitPhase } from './helpers/services.js';
import { createTask, getExecution, stepPhases, waitExecution } from './helpers/tasks.js';
import { waitFor } from './helpers/wait.js';

const waitUntilFile = (path: string) => `while [ ! -f ${path} ]; do sleep 0.01; done`;

describe('an execution with a failed step', () => {
  it('is FAILED at once while the rest of its group runs; it ends when they have, and later groups never start', async () => {
    const td = await startTestDaemon();
    const release = join(td.workspace, 'release');
    const slowDone = join(td.workspace, 'slow.done');
    const never = join(td.workspace, 'never');
    const bad = await createTask(td.client, 'bad', 'echo broken; exit 1');
    const slow = await createTask(td.client, 'slow', `${waitUntilFile(release)}; echo finished; touch ${slowDone}`);
    const last = await createTask(td.client, 'last', `touch ${never}`, [bad, slow]);
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: last });
    const id = taskExecution!.id!;

    const failing = await waitExecution(td.client, id, 'TASK_EXECUTION_PHASE_FAILED', 10_000, { ended: false });
    expect(stepPhases(failing)).toEqual({ bad: 'TASK_EXECUTION_PHASE_FAILED', slow: 'TASK_EXECUTION_PHASE_RUNNING' });
    expect(failing.metadata.completedAt).toBeUndefined();
    expect(failing.status.failureMessage).toContain('exited with code 1');
    // Its log goes on while a step still runs.
    const log = await fetch(failing.status.logUrl!, { headers: { authorization: `Bearer ${td.daemon.token}` } });
    const reading = log.text();

    writeFileSync(release, '');
    const ended = await waitExecution(td.client, id, 'TASK_EXECUTION_PHASE_FAILED');
    expect(stepPhases(ended)).toEqual({ bad: 'TASK_EXECUTION_PHASE_FAILED', slow: 'TASK_EXECUTION_PHASE_SUCCEEDED' });
    expect(ended.metadata.completedAt).toBeDefined();
    expect(ended.status.failureMessage).toBe(failing.status.failureMessage);
    expect(existsSync(slowDone)).toBe(true);
    expect(existsSync(never)).toBe(false);
    expect(await reading).toContain('finished');
  });

  it('a stop while FAILED stops the steps that still run; it stays FAILED', async () => {
    const td = await startTestDaemon({ taskStopTimeoutMs: 300 });
    const bad = await createTask(td.client, 'bad', 'exit 3');
    const forever = await createTask(td.client, 'forever', 'exec sleep 1000');
    const last = await createTask(td.client, 'last', 'true', [bad, forever]);
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: last });
    const id = taskExecution!.id!;
    await waitExecution(td.client, id, 'TASK_EXECUTION_PHASE_FAILED', 10_000, { ended: false });
    await td.client.environments.automations.tasks.executions.stop({ id });
    const ended = await waitExecution(td.client, id, 'TASK_EXECUTION_PHASE_FAILED');
    expect(stepPhases(ended)).toEqual({ bad: 'TASK_EXECUTION_PHASE_FAILED', forever: 'TASK_EXECUTION_PHASE_STOPPED' });
    expect(ended.spec.desiredPhase).toBe('TASK_EXECUTION_PHASE_STOPPED');
  });

  it('`tend tasks start --wait` returns once every step has ended', async () => {
    const td = await startTestDaemon();
    const release = join(td.workspace, 'release');
    const slowDone = join(td.workspace, 'slow.done');
    const bad = await createTask(td.client, 'bad', 'exit 1');
    const slow = await createTask(td.client, 'slow', `${waitUntilFile(release)}; touch ${slowDone}`);
    await createTask(td.client, 'both', 'true', [bad, slow]);
    const cli = runCli(['tasks', 'start', 'both', '--wait', '--state-dir', td.stateDir]);
    const id = await waitFor(async () => (await td.call('ListTaskExecutions', {})).body.taskExecutions[0]?.id as string | undefined, { what: 'the execution' });
    await waitExecution(td.client, id, 'TASK_EXECUTION_PHASE_FAILED', 10_000, { ended: false });
    writeFileSync(release, '');
    const result = await cli;
    expect(result.code).toBe(1);
    // It returned after the slow step ended, not at the first FAILED.
    expect(existsSync(slowDone)).toBe(true);
    expect(result.stdout).toContain('slow: succeeded');
  });
});

describe('logUrl', () => {
  it('is absent while nothing can be read: a service that failed before it started, a PENDING execution', async () => {
    const td = await startTestDaemon();
    const id = await createService(td.client, 'secretless', { start: 'true' }, { env: [{ name: 'TOKEN', valueFrom: { secretRef: { id: 'missing' } } }] });
    await td.client.environments.automations.services.start({ id });
    const failed = await waitPhase(td.client, id, 'SERVICE_PHASE_FAILED');
    expect(failed.status?.failureMessage).toContain('Secret "missing" not found');
    expect(failed.status?.logUrl).toBeUndefined();

    const runs = await createService(td.client, 'runs', { start: 'echo up; exec sleep 60' });
    await td.client.environments.automations.services.start({ id: runs });
    const running = await waitPhase(td.client, runs, 'SERVICE_PHASE_RUNNING');
    expect((await fetch(running.status!.logUrl!, { headers: { authorization: `Bearer ${td.daemon.token}` } })).status).toBe(200);

    const taskId = await createTask(td.client, 'build', 'echo built');
    const { taskExecution } = await td.client.environments.automations.tasks.start({ id: taskId });
    expect(taskExecution?.status?.phase).toBe('TASK_EXECUTION_PHASE_PENDING');
    expect(taskExecution?.status?.logUrl).toBeUndefined();
    const done = await waitExecution(td.client, taskExecution!.id!);
    const log = await fetch(done.status.logUrl!, { headers: { authorization: `Bearer ${td.daemon.token}` } });
    expect(log.status).toBe(200);
    expect(await log.text()).toContain('built');
  });

  it('a serve-only daemon has none for an execution no runner has reported', async () => {
    const cp = await startTestDaemon({ serveOnly: true });
    const taskId = await createTask(cp.client, 'build', 'true');
    const { taskExecution } = await cp.client.environments.automations.tasks.start({ id: taskId });
    expect(taskExecution?.status?.logUrl).toBeUndefined();
    expect((await getExecution(cp.client, taskExecution!.id!)).status.logUrl).toBeUndefined();
  });
});
