import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/client/api-client.js';
import { mcpWorkspace, startMcp } from './helpers/mcp.js';
import { waitFor } from './helpers/wait.js';

const FILE = [
  'services:',
  '  web:',
  '    commands: {start: "echo serving on 3000; exec sleep 60", ready: "test -n \\"$TEST_TAG\\""}',
  '  api:',
  '    commands: {start: "echo api up; exec sleep 60", ready: "true"}',
  '    triggeredBy: [postEnvironmentStart]',
  'tasks:',
  '  install: {command: "echo installed", triggeredBy: [postDevcontainerStart]}',
  '  lint: {command: "echo checking; echo 2 problems >&2; exit 3", dependsOn: [install]}',
  '  slow: {command: "echo started; exec sleep 30"}',
];

const TOOLS = [
  'apply_automations_file',
  'fire_trigger',
  'list_executions',
  'list_services',
  'list_tasks',
  'read_logs',
  'restart_service',
  'run_task',
  'start_service',
  'stop_execution',
  'stop_service',
  'validate_automations_file',
];

describe('tend mcp: the tools, over stdio, against a real daemon', () => {
  it('lists, starts a service and sees it RUNNING, reads its log, runs a failing task and gets its exit code and output; the daemon outlives the session', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);

    const { tools } = await mcp.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOLS);
    const start = tools.find((tool) => tool.name === 'start_service')!;
    expect(start.inputSchema.required).toEqual(['service']);
    expect(start.inputSchema.properties?.timeoutSeconds).toMatchObject({ type: 'number', default: 50, maximum: 600 });

    // The daemon `tend mcp` started fired the start triggers, as `tend up --detach` does.
    const listed = await mcp.call('list_services');
    expect(listed.isError).toBe(false);
    const byName = Object.fromEntries(listed.data.services.map((service: any) => [service.reference, service]));
    expect(byName.web).toMatchObject({ phase: 'STOPPED', wanted: 'STOPPED', logUri: 'tend://logs/service/web', readyCommand: 'test -n "$TEST_TAG"' });
    expect(byName.api).toMatchObject({ wanted: 'RUNNING', triggeredBy: ['postEnvironmentStart'] });
    expect(listed.text).toContain('web: STOPPED');

    const started = await mcp.call('start_service', { service: 'web' });
    expect(started.isError).toBe(false);
    expect(started.data).toMatchObject({ outcome: 'RUNNING', service: { reference: 'web', phase: 'RUNNING' } });
    expect(started.text).toMatch(/^Service "web" is RUNNING/);

    const log = await mcp.call('read_logs', { service: 'web' });
    expect(log.data.lines).toEqual(['serving on 3000']);
    expect(log.text).toContain('serving on 3000');

    const lint = await mcp.call('run_task', { task: 'lint' });
    expect(lint.isError).toBe(false);
    expect(lint.data).toMatchObject({ outcome: 'FAILED', exitCode: 3, execution: { task: 'lint', phase: 'FAILED' } });
    expect(lint.data.outputTail).toEqual(expect.arrayContaining(['checking', '2 problems']));
    expect(lint.data.execution.steps).toEqual([
      expect.objectContaining({ label: 'install', kind: 'task', phase: 'SUCCEEDED', exitCode: 0 }),
      expect.objectContaining({ label: 'lint', kind: 'task', phase: 'FAILED', exitCode: 3 }),
    ]);
    expect(lint.text).toMatch(/^Task "lint" FAILED \(execution [0-9a-f-]+, exit code 3\)/);
    expect(lint.text).toContain('2 problems');

    const executions = await mcp.call('list_executions', { task: 'lint' });
    expect(executions.data.executions).toEqual([expect.objectContaining({ id: lint.data.execution.id, phase: 'FAILED', startedBy: 'manual' })]);
    const fired = await mcp.call('list_executions', { phases: ['SUCCEEDED'] });
    expect(fired.data.executions.map((execution: any) => execution.startedBy)).toContain('postDevcontainerStart');
    const tasks = await mcp.call('list_tasks', { references: ['lint'] });
    expect(tasks.data.tasks).toEqual([expect.objectContaining({ reference: 'lint', dependsOn: ['install'], lastExecution: expect.objectContaining({ phase: 'FAILED' }) })]);
    expect(tasks.data.tasks[0].lastExecution.failure).toBe('Task "lint": command "echo checking; echo 2 problems >&2; exit 3" exited with code 3');

    const api = connect(join(workspace.dir, '.tend'));
    const session = async () => (await api.call<{ service: { status: { session?: string } } }>('GetService', { id: byName.web.id })).service.status.session;
    const before = await session();
    const restarted = await mcp.call('restart_service', { service: 'web' });
    expect(restarted.data).toMatchObject({ outcome: 'RUNNING', service: { phase: 'RUNNING' } });
    expect(await session()).not.toBe(before);
    const stopped = await mcp.call('stop_service', { service: byName.web.id });
    expect(stopped.data).toMatchObject({ outcome: 'STOPPED', service: { reference: 'web', phase: 'STOPPED', wanted: 'STOPPED' } });

    const triggered = await mcp.call('fire_trigger', { triggers: ['postDevcontainerStart'] });
    expect(triggered.data.executions).toEqual([expect.objectContaining({ task: 'install' })]);

    // The session ends; the environment does not.
    await mcp.client.close();
    const status = await workspace.tend('status');
    expect(status.stdout).toMatch(/\nservice +api +running /);
    // The failed task run above is what tend status says is not well.
    expect(status.stdout).toContain('Not all is well: the latest execution of task "lint" failed (exit 3: 2 problems)');
    expect(status.code).toBe(1);
  });

  it('answers a call that cannot be carried out with a tool error carrying the CLI message', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    const expectError = async (name: string, args: Record<string, unknown>, message: string | RegExp) => {
      const answer = await mcp.call(name, args);
      expect(answer.isError, `${name} ${JSON.stringify(args)}: ${answer.text}`).toBe(true);
      if (typeof message === 'string') expect(answer.text).toBe(message);
      else expect(answer.text).toMatch(message);
    };
    await expectError('start_service', { service: 'nope' }, 'Service "nope" not found: `tend services list` shows them all');
    await expectError('restart_service', { service: 'nope' }, 'Service "nope" not found: `tend services list` shows them all');
    await expectError('run_task', { task: 'lnt' }, 'Task "lnt" not found: `tend tasks list` shows them all');
    await expectError('list_executions', { task: 'lnt' }, 'Task "lnt" not found: `tend tasks list` shows them all');
    await expectError('stop_execution', { execution: 'no-such-execution' }, 'Invalid "id" "no-such-execution": ids are UUIDs, and no task execution has this one');
    await expectError('stop_execution', { execution: '00000000-0000-4000-8000-000000000000' }, 'Task execution "00000000-0000-4000-8000-000000000000" not found');
    await expectError('read_logs', { service: 'web' }, 'Service "web" has not run yet: it has no log');
    await expectError('read_logs', { task: 'lint' }, 'Task "lint" has not run yet: it has no log');
    await expectError('read_logs', {}, 'Cannot read a log: give exactly one of "service", "execution" or "task"');
    await expectError('read_logs', { service: 'api', pattern: '(' }, /^Invalid pattern "\(": /);
    await expectError('start_service', { service: 42 }, /Input validation error: .*start_service/);
    await expectError('fire_trigger', { triggers: ['manul'] }, /Input validation error: .*fire_trigger/);
    await expectError('validate_automations_file', { path: 'a.yaml', content: 'services: {}' }, 'Cannot validate: give "path" or "content", not both');
  });

  it('says why there is no daemon when none can be started, and still validates', async () => {
    const workspace = mcpWorkspace(undefined);
    const mcp = await startMcp(workspace);
    const listed = await mcp.call('list_services');
    expect(listed).toMatchObject({ isError: true, text: `No automations file in ${workspace.dir} or above it: create .gitpod/automations.yaml, or give --file` });
    const validated = await mcp.call('validate_automations_file', { content: 'services:\n  web:\n    commands: {start: "true"}\n' });
    expect(validated).toMatchObject({ isError: false, text: '<content> is valid: 1 service, 0 tasks', data: { valid: true, services: 1, tasks: 0 } });
  });

  it('validates a bad file with every problem at its line and column, and applies a file through the watcher', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    writeFileSync(join(workspace.dir, 'bad.yaml'), ['services:', '  web:', '    comands: {start: "x"}', 'tasks:', '  t: {command: "x", dependsOn: [nope]}', ''].join('\n'));
    const bad = await mcp.call('validate_automations_file', { path: 'bad.yaml' });
    expect(bad.isError).toBe(false);
    const file = join(workspace.dir, 'bad.yaml');
    expect(bad.data).toMatchObject({ file, valid: false });
    expect(bad.data.problems.map((problem: any) => `${problem.line}:${problem.column} ${problem.field}`)).toEqual([
      '2:3 services.web',
      '3:5 services.web.comands',
      '5:33 tasks.t.dependsOn[0]',
    ]);
    expect(bad.text).toContain(`${file}:3:5: services.web.comands: Unknown field "comands" (did you mean "commands"?)`);
    const good = await mcp.call('validate_automations_file', {});
    expect(good.text).toBe(`${join(workspace.dir, '.gitpod', 'automations.yaml')} is valid: 2 services, 3 tasks`);

    // Refused: nothing is written, nothing changes.
    const path = join(workspace.dir, '.gitpod', 'automations.yaml');
    const before = readFileSync(path, 'utf8');
    const refused = await mcp.call('apply_automations_file', { content: 'services:\n  web: {commands: {start: ""}}\n' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain(`${path}:2:27: services.web.commands.start: Service "web" needs a non-empty commands.start`);
    expect(refused.text).toContain('Nothing was written or applied');
    expect(readFileSync(path, 'utf8')).toBe(before);

    const next = [...FILE, '  seed: {command: "echo seeded"}', ''].join('\n');
    const applied = await mcp.call('apply_automations_file', { content: next });
    expect(applied.isError, applied.text).toBe(false);
    expect(applied.data).toMatchObject({ file: path, outcome: 'APPLIED' });
    expect(applied.data.tasks).toContain('seed');
    expect(readFileSync(path, 'utf8')).toBe(next);
    expect((await mcp.call('apply_automations_file', { content: next })).data.outcome).toBe('UNCHANGED');

    // An edit made by hand: applied as it is on disk.
    writeFileSync(path, `${FILE.join('\n')}\n`);
    const edited = await mcp.call('apply_automations_file', {});
    expect(['APPLIED', 'UNCHANGED']).toContain(edited.data.outcome);
    expect(edited.data.tasks).not.toContain('seed');
    expect((await mcp.call('list_tasks')).data.tasks.map((task: any) => task.reference).sort()).toEqual(['install', 'lint', 'slow']);
  });

  it('answers STILL_RUNNING with the execution id when a task outlasts the wait; stop_execution stops it', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    const slow = await mcp.call('run_task', { task: 'slow', timeoutSeconds: 0.3 });
    expect(slow.isError).toBe(false);
    expect(slow.data).toMatchObject({ outcome: 'STILL_RUNNING', exitCode: null });
    const id = slow.data.execution.id;
    expect(slow.text).toContain(`Task "slow" is still RUNNING after`);
    expect(slow.text).toContain(`(execution ${id})`);
    const stopped = await mcp.call('stop_execution', { execution: id });
    expect(stopped.data).toMatchObject({ outcome: 'STOPPED', execution: { id, phase: 'STOPPED' } });
    expect(stopped.data.outputTail).toEqual(['started']);
  });

  it('masks secrets in what read_logs gives, tail and pattern alike', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    await mcp.call('list_services'); // the daemon is up
    const stateDir = join(workspace.dir, '.tend');
    mkdirSync(join(stateDir, 'secrets'), { recursive: true });
    writeFileSync(join(stateDir, 'secrets', 'api-token'), 's3cr3t-value\n');
    const api = connect(stateDir);
    await api.call('CreateService', {
      metadata: { reference: 'leaky' },
      spec: { commands: { start: 'echo token=$TOKEN; exec sleep 60' }, env: [{ name: 'TOKEN', valueFrom: { secretRef: { id: 'api-token' } } }] },
    });
    expect((await mcp.call('start_service', { service: 'leaky' })).data.outcome).toBe('RUNNING');
    const tail = await mcp.call('read_logs', { service: 'leaky' });
    expect(tail.data.lines).toEqual(['token=***']);
    const matched = await mcp.call('read_logs', { service: 'leaky', pattern: 'TOKEN=', ignoreCase: true });
    expect(matched.data).toMatchObject({ matches: [{ line: 1, text: 'token=***' }], totalLines: 1, matchedLines: 1 });
    expect(matched.text).not.toContain('s3cr3t');
  });
});

describe('tend mcp: the daemon', () => {
  it('is started once for calls that come together, and stays for `tend down` to stop', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    const answers = await Promise.all([mcp.call('list_services'), mcp.call('list_tasks'), mcp.call('list_executions')]);
    expect(answers.map((answer) => answer.isError)).toEqual([false, false, false]);
    // One daemon, one firing of the start triggers.
    const installs = (await mcp.call('list_executions')).data.executions.filter((execution: any) => execution.task === 'install');
    expect(installs).toHaveLength(1);
    await mcp.client.close();
    expect(workspace.left()).toBeGreaterThan(0);
    expect((await workspace.tend('down')).code).toBe(0);
    await waitFor(() => workspace.left() === 0, { what: 'the daemon and its services to be gone' });
  });
});
