import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestDaemon, memoryLogger } from './helpers/daemon.js';
import { createService, pidAlive, readPidFile, waitPhase } from './helpers/services.js';
import { createTask, getExecution, planLabels, stepPhases, waitExecution } from './helpers/tasks.js';
import { waitFor } from './helpers/wait.js';

describe('tasks and executions', () => {
  it('runs build after install and a db service, in order, with outputs and logs (the SDK flow)', async () => {
    const { client, workspace, daemon } = await startTestDaemon();
    const order = join(workspace, 'order');
    const db = await createService(client, 'db', { start: 'exec sleep 60', ready: 'true' });
    const install = await createTask(client, 'install', `echo install >> ${order}; echo "installed 42 packages"; echo "packages=42" >> $GITPOD_OUTPUT`);
    const build = await createTask(client, 'build', `echo build >> ${order}; echo "built"; echo "artifact=dist/app.js" >> $GITPOD_OUTPUT`, [install, db]);

    const { taskExecution } = await client.environments.automations.tasks.start({ id: build });
    expect(taskExecution.status?.phase).toBe('TASK_EXECUTION_PHASE_PENDING');
    expect(taskExecution.metadata?.startedBy).toBe('manual');
    expect(taskExecution.metadata?.taskId).toBe(build);
    const done = await waitExecution(client, taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(planLabels(done)).toEqual([['db', 'install'], ['build']]);
    expect(done.spec.plan[0]!.steps.find((step) => step.label === 'db')!.serviceId).toBe(db);
    expect(done.spec.plan[1]!.steps[0]!.dependsOn.sort()).toEqual([db, install].sort());
    expect(stepPhases(done)).toEqual({
      db: 'TASK_EXECUTION_PHASE_SUCCEEDED',
      install: 'TASK_EXECUTION_PHASE_SUCCEEDED',
      build: 'TASK_EXECUTION_PHASE_SUCCEEDED',
    });
    expect(readFileSync(order, 'utf8')).toBe('install\nbuild\n');
    await waitPhase(client, db, 'SERVICE_PHASE_RUNNING');
    const outputs = Object.fromEntries(done.status.steps.map((step) => [step.id, step.output]));
    expect(outputs[install]).toEqual({ packages: '42' });
    expect(outputs[build]).toEqual({ artifact: 'dist/app.js' });
    expect(done.metadata.startedAt).toBeTruthy();
    expect(done.metadata.completedAt).toBeTruthy();

    const log = await (await fetch(`${done.status.logUrl}?follow=false`, { headers: { authorization: `Bearer ${daemon.token}` } })).text();
    const lines = log.trim().split('\n');
    expect(lines[0]).toBe(`[section-create] {"id":"${db}","title":"db"}`);
    expect(lines).toContain('installed 42 packages');
    expect(lines).toContain('built');
    expect(lines.indexOf('built')).toBeGreaterThan(lines.indexOf('installed 42 packages'));
    expect(lines.at(-1)).toMatch(new RegExp(`^\\[section-end\\] \\{"id":"${build}","outcome":"success","secondsElapsed":[0-9.]+\\}$`));
  });

  it('layers chains and diamonds into groups', async () => {
    const { client } = await startTestDaemon();
    const a = await createTask(client, 'a', 'true');
    const b = await createTask(client, 'b', 'true', [a]);
    const c = await createTask(client, 'c', 'true', [a]);
    const d = await createTask(client, 'd', 'true', [b, c]);
    const e = await createTask(client, 'e', 'true', [d, a]);
    const diamond = await waitExecution(client, (await client.environments.automations.tasks.start({ id: e })).taskExecution.id);
    expect(planLabels(diamond)).toEqual([['a'], ['b', 'c'], ['d'], ['e']]);
    const chain = await waitExecution(client, (await client.environments.automations.tasks.start({ id: b })).taskExecution.id);
    expect(planLabels(chain)).toEqual([['a'], ['b']]);
    const single = await waitExecution(client, (await client.environments.automations.tasks.start({ id: a })).taskExecution.id);
    expect(planLabels(single)).toEqual([['a']]);
  });

  it('runs the steps of a group concurrently', async () => {
    const { client, workspace } = await startTestDaemon();
    // Each step waits (up to 5 s) for the other to have started: run one after the other, both fail.
    // The start file appears only once it holds its time (write, then rename).
    const rendezvous = (me: string, other: string) =>
      `date +%s%N > ${join(workspace, me)}.tmp && mv ${join(workspace, me)}.tmp ${join(workspace, me)}.start; ` +
      `i=0; while [ ! -f ${join(workspace, other)}.start ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; ` +
      `test -f ${join(workspace, other)}.start && date +%s%N > ${join(workspace, me)}.end`;
    const left = await createTask(client, 'left', rendezvous('left', 'right'));
    const right = await createTask(client, 'right', rendezvous('right', 'left'));
    const both = await createTask(client, 'both', 'true', [left, right]);
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id: both })).taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    const time = (name: string) => BigInt(readFileSync(join(workspace, name), 'utf8').trim());
    // The intervals [start, end] of the two steps intersect.
    expect(time('left.start') < time('right.end') && time('right.start') < time('left.end')).toBe(true);
  });

  it('a failing step fails the execution: its group finishes, later groups never start', async () => {
    const { client, workspace } = await startTestDaemon();
    const slowDone = join(workspace, 'slow.done');
    const never = join(workspace, 'never');
    const bad = await createTask(client, 'bad', 'echo "cannot compile main.c"; exit 2');
    const slow = await createTask(client, 'slow', `sleep 0.2; touch ${slowDone}`);
    const last = await createTask(client, 'last', `touch ${never}`, [bad, slow]);
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id: last })).taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_FAILED');
    expect(stepPhases(done)).toEqual({ bad: 'TASK_EXECUTION_PHASE_FAILED', slow: 'TASK_EXECUTION_PHASE_SUCCEEDED' });
    expect(existsSync(slowDone)).toBe(true);
    expect(existsSync(never)).toBe(false);
    const failed = done.status.steps.find((step) => step.id === bad)!;
    expect(failed.failureMessage).toContain('Task "bad": command "echo "cannot compile main.c"; exit 2" exited with code 2');
    expect(failed.failureMessage).toContain('cannot compile main.c');
    expect(done.status.failureMessage).toBe(failed.failureMessage);
  });

  it('StopTaskExecution kills the whole process tree of a step and ends STOPPED', async () => {
    const { client, workspace } = await startTestDaemon({ taskStopTimeoutMs: 300 });
    const child = join(workspace, 'child.pid');
    const escaped = join(workspace, 'escaped.pid');
    const main = join(workspace, 'main.pid');
    const id = await createTask(
      client,
      'forever',
      `echo $$ > ${main}; trap '' TERM; sh -c 'echo $$ > ${child}; exec sleep 60' & setsid sh -c 'echo $$ > ${escaped}; exec sleep 60' & wait`,
    );
    const { taskExecution } = await client.environments.automations.tasks.start({ id });
    const pids = [await readPidFile(main), await readPidFile(child), await readPidFile(escaped)];
    await waitExecution(client, taskExecution.id, 'TASK_EXECUTION_PHASE_RUNNING');
    await client.environments.automations.tasks.executions.stop({ id: taskExecution.id });
    const done = await waitExecution(client, taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_STOPPED');
    expect(done.spec.desiredPhase).toBe('TASK_EXECUTION_PHASE_STOPPED');
    expect(stepPhases(done)).toEqual({ forever: 'TASK_EXECUTION_PHASE_STOPPED' });
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
  });

  it('a service dependency that fails fails its step and the execution', async () => {
    const { client, workspace } = await startTestDaemon();
    const ran = join(workspace, 'ran');
    const db = await createService(client, 'db', { start: 'echo "database is corrupt"; exit 1', ready: 'false' });
    const migrate = await createTask(client, 'migrate', `touch ${ran}`, [db]);
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id: migrate })).taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_FAILED');
    expect(stepPhases(done)).toEqual({ db: 'TASK_EXECUTION_PHASE_FAILED' });
    expect(done.status.steps[0]!.failureMessage).toContain('Service "db" failed');
    expect(done.status.steps[0]!.failureMessage).toContain('database is corrupt');
    expect(existsSync(ran)).toBe(false);
  });

  it('a service step waits for readiness of a service already starting, and succeeds at once if it runs', async () => {
    const { client, workspace } = await startTestDaemon();
    const flag = join(workspace, 'flag');
    const db = await createService(client, 'db', { start: 'exec sleep 60', ready: `test -f ${flag}` });
    const use = await createTask(client, 'use', 'true', [db]);
    const { taskExecution } = await client.environments.automations.tasks.start({ id: use });
    await waitPhase(client, db, 'SERVICE_PHASE_STARTING');
    expect((await getExecution(client, taskExecution.id)).status.phase).toBe('TASK_EXECUTION_PHASE_RUNNING');
    writeFileSync(flag, '');
    expect((await waitExecution(client, taskExecution.id)).status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    const again = await waitExecution(client, (await client.environments.automations.tasks.start({ id: use })).taskExecution.id);
    expect(again.status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
  });

  it('turns GITPOD_OUTPUT lines into outputs; an empty value unsets a key; services get status.output', async () => {
    const { client } = await startTestDaemon();
    const id = await createTask(client, 'out', 'printf "a=1\\nb=2\\nnot a pair\\nb=\\nc=x=y\\n" >> $GITPOD_OUTPUT');
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id })).taskExecution.id);
    expect(done.status.steps[0]!.output).toEqual({ a: '1', c: 'x=y' });

    const svc = await createService(client, 'web', { start: 'echo "url=http://localhost:3000" >> $GITPOD_OUTPUT; exec sleep 60', ready: 'test -s $GITPOD_OUTPUT' });
    await client.environments.automations.services.start({ id: svc });
    // The output is read when the phase changes: RUNNING already carries it.
    const running = await waitPhase(client, svc, 'SERVICE_PHASE_RUNNING');
    expect(running.status?.output).toEqual({ url: 'http://localhost:3000' });
  });

  it('a finished step has no process left: what its command put in the background, or in a session of its own, is killed before it ends', async () => {
    const { client, workspace } = await startTestDaemon();
    const [child, escaped] = [join(workspace, 'child.pid'), join(workspace, 'escaped.pid')];
    const id = await createTask(
      client,
      'leaves',
      `sleep 60 & echo $! > ${child}; setsid sh -c 'echo $$ > ${escaped}.tmp; mv ${escaped}.tmp ${escaped}; exec sleep 60' & while [ ! -f ${escaped} ]; do sleep 0.01; done`,
    );
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id })).taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    for (const pid of [await readPidFile(child), await readPidFile(escaped)]) expect(pidAlive(pid)).toBe(false);
  });

  it("makes the next group's files while a group runs, and removes a step's GITPOD_OUTPUT once it is read", async () => {
    const { client, stateDir } = await startTestDaemon();
    // The first step finds the second one's log and GITPOD_OUTPUT made before it ends.
    const first = await createTask(
      client,
      'first',
      [
        'dir=$(dirname "$GITPOD_OUTPUT"); log="$dir/../../logs/$(basename "$dir")/1.log"',
        'for i in $(seq 200); do if [ -f "$dir/1.env" ] && [ -f "$log" ]; then echo seen=yes >> "$GITPOD_OUTPUT"; exit 0; fi; sleep 0.05; done',
        'exit 1',
      ].join('\n'),
    );
    const second = await createTask(client, 'second', 'test ! -s "$GITPOD_OUTPUT" && echo "b=2" >> "$GITPOD_OUTPUT"', [first]);
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id: second })).taskExecution.id);
    expect(done.status.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
    expect(done.status.steps.map((step) => step.output)).toEqual([{ seen: 'yes' }, { b: '2' }]);
    // Removed off the daemon's thread, once read.
    await waitFor(() => readdirSync(join(stateDir, 'outputs', done.id)).length === 0, { what: 'the outputs files removed' });
  });

  it('resolves secrets from <state-dir>/secrets and never shows their value', async () => {
    const lines: string[] = [];
    const { client, stateDir, daemon, call } = await startTestDaemon({ log: memoryLogger(lines).log });
    mkdirSync(join(stateDir, 'secrets'), { recursive: true });
    writeFileSync(join(stateDir, 'secrets', 'db-password'), 'hunter2-s3cret\n');
    const id = await createTask(client, 'leaky', 'echo "password is $PASSWORD"; echo "pw=$PASSWORD" >> $GITPOD_OUTPUT; exit 1', [], {
      env: [{ name: 'PASSWORD', valueFrom: { secretRef: { id: 'db-password' } } }],
    });
    const done = await waitExecution(client, (await client.environments.automations.tasks.start({ id })).taskExecution.id);
    expect(done.status.steps[0]!.failureMessage).toContain('password is ***');
    expect(done.status.steps[0]!.output).toEqual({ pw: '***' });
    const log = await (await fetch(`${done.status.logUrl}?follow=false`, { headers: { authorization: `Bearer ${daemon.token}` } })).text();
    expect(log).toBe('password is ***\n');
    for (const method of ['GetTaskExecution', 'ListTaskExecutions', 'GetTask', 'ListTasks']) {
      const response = await call(method, method.startsWith('Get') ? { id: method === 'GetTask' ? id : done.id } : {});
      expect(JSON.stringify(response.body)).not.toContain('hunter2');
    }
    expect(lines.join('\n')).not.toContain('hunter2');

    const missing = await createTask(client, 'missing', 'true', [], { env: [{ name: 'X', valueFrom: { secretRef: { id: 'nope' } } }] });
    const failed = await waitExecution(client, (await client.environments.automations.tasks.start({ id: missing })).taskExecution.id);
    expect(failed.status.steps[0]!.failureMessage).toContain('Secret "nope" not found');
  });
});
