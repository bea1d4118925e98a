import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AutomationsFile } from '../src/domain/schema.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { getService, pidAlive, readPidFile, waitPhase } from './helpers/services.js';
import { waitExecution } from './helpers/tasks.js';
import { waitFor } from './helpers/wait.js';

const byRef = async (td: TestDaemon, reference: string) =>
  (await td.call('ListServices', { filter: { references: [reference] } })).body.services[0];

function webAndDb(dir: string, webStart = 'exec sleep 60'): AutomationsFile {
  return {
    services: {
      web: { commands: { start: `echo $$ > ${dir}/web.pid; ${webStart}` }, triggeredBy: ['postDevcontainerStart'] },
      db: { commands: { start: `echo $$ > ${dir}/db.pid; exec sleep 60` }, triggeredBy: ['postEnvironmentStart'], role: 'default' },
    },
    tasks: {
      install: { command: `echo x >> ${dir}/install.count`, triggeredBy: ['postEnvironmentStart'] },
      build: { command: 'true', dependsOn: ['install', 'db'], triggeredBy: ['postEnvironmentStart'] },
      test: { command: 'true', dependsOn: ['install'], triggeredBy: ['postDevcontainerStart'] },
    },
  };
}

describe('UpsertAutomationsFile', () => {
  it('creates, then changes only what changed: a changed running service restarts, an unchanged one keeps its pid', async () => {
    const td = await startTestDaemon();
    const dir = td.workspace;
    const first = await td.call('UpsertAutomationsFile', { automationsFile: webAndDb(dir) });
    expect(first.status).toBe(200);
    expect(first.body.updatedServiceIds).toHaveLength(2);
    expect(first.body.updatedTaskIds).toHaveLength(3);
    const web = await byRef(td, 'web');
    expect(web.metadata.triggeredBy).toEqual([{ postDevcontainerStart: true }]);
    expect((await byRef(td, 'db')).metadata.role).toBe('SERVICE_ROLE_DEFAULT');
    const build = (await td.call('ListTasks', { filter: { references: ['build'] } })).body.tasks[0];
    expect(build.dependsOn.sort()).toEqual([(await byRef(td, 'db')).id, (await td.call('ListTasks', { filter: { references: ['install'] } })).body.tasks[0].id].sort());

    // The same file again changes nothing.
    const again = await td.call('UpsertAutomationsFile', { automationsFile: webAndDb(dir) });
    expect(again.body).toEqual({ updatedServiceIds: [], updatedTaskIds: [] });

    for (const ref of ['web', 'db']) await td.client.environments.automations.services.start({ id: (await byRef(td, ref)).id });
    await waitPhase(td.client, web.id, 'SERVICE_PHASE_RUNNING');
    const db = await byRef(td, 'db');
    await waitPhase(td.client, db.id, 'SERVICE_PHASE_RUNNING');
    const webPid = await readPidFile(join(dir, 'web.pid'));
    const dbPid = await readPidFile(join(dir, 'db.pid'));
    const webSession = (await getService(td.client, web.id)).status?.session;

    const changed = await td.call('UpsertAutomationsFile', { automationsFile: webAndDb(dir, 'exec sleep 61') });
    expect(changed.body.updatedServiceIds).toEqual([web.id]);
    expect(changed.body.updatedTaskIds).toEqual([]);
    const restarted = await waitFor(
      async () => {
        const current = await getService(td.client, web.id);
        return current.status?.phase === 'SERVICE_PHASE_RUNNING' && current.status.session !== webSession ? current : undefined;
      },
      { what: 'web to run again in a new session' },
    );
    expect(restarted.spec?.commands?.start).toContain('exec sleep 61');
    expect(pidAlive(webPid)).toBe(false);
    expect(pidAlive(dbPid)).toBe(true);
    expect((await getService(td.client, db.id)).status?.statusVersion).toBe(db.status.statusVersion);
  });

  it('stops and deletes what the file no longer has, and leaves API-made resources alone', async () => {
    const td = await startTestDaemon();
    await td.call('UpsertAutomationsFile', { automationsFile: webAndDb(td.workspace) });
    const mine = await td.call('CreateService', { metadata: { reference: 'mine' }, spec: { commands: { start: 'true' } } });
    const web = await byRef(td, 'web');
    await td.client.environments.automations.services.start({ id: web.id });
    await waitPhase(td.client, web.id, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(join(td.workspace, 'web.pid'));
    const file = webAndDb(td.workspace);
    delete file.services!.web;
    delete file.tasks!.test;
    file.tasks!.build!.dependsOn = ['db'];
    const result = await td.call('UpsertAutomationsFile', { automationsFile: file });
    expect(result.body.updatedServiceIds).toEqual([web.id]);
    expect(result.body.updatedTaskIds).toHaveLength(2); // build changed, test deleted
    await waitFor(async () => (await td.call('GetService', { id: web.id })).status === 404, { what: 'web to be deleted' });
    expect(pidAlive(pid)).toBe(false);
    expect((await td.call('ListTasks', {})).body.tasks.map((task: any) => task.metadata.reference).sort()).toEqual(['build', 'install']);
    expect((await td.call('GetService', { id: mine.body.service.id })).status).toBe(200);
  });

  it('refuses an invalid file with every problem and changes nothing', async () => {
    const td = await startTestDaemon();
    const before = JSON.stringify((await td.call('ListServices', {})).body);
    const bad = await td.call('UpsertAutomationsFile', {
      automationsFile: { services: { web: { commands: { start: '' } } }, tasks: { a: { command: 'x', dependsOn: ['a'] }, b: { command: 'x', dependsOn: ['zz'] } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_argument');
    expect(bad.body.message).toContain('services.web.commands.start: Service "web" needs a non-empty commands.start');
    expect(bad.body.message).toContain('tasks.a.dependsOn[0]: Dependency cycle: "a" → "a"');
    expect(bad.body.message).toContain('tasks.b.dependsOn[0]: Unknown dependency "zz"');
    const unknownField = await td.call('UpsertAutomationsFile', { automationsFile: { services: { web: { comands: {} } } } });
    expect(unknownField.body.message).toContain('Unknown field "comands"');
    expect(JSON.stringify((await td.call('ListServices', {})).body)).toBe(before);
  });

  it('reports shape and semantic problems together, as `tend validate` does', async () => {
    const td = await startTestDaemon();
    const before = JSON.stringify((await td.call('ListServices', {})).body);
    const error = await td.client.environments.automations
      .upsert({
        automationsFile: {
          services: { 'bad key': { commands: { start: '' } }, ok: { comands: {} } as any },
          tasks: { t: { command: 'x', dependsOn: ['nope'] } },
        },
      })
      .catch((caught: unknown) => caught as { status: number; error: { message: string } });
    expect(error).toMatchObject({ status: 400 });
    const message = (error as { error: { message: string } }).error.message;
    expect(message).toContain('services.bad key: Invalid key "bad key"');
    expect(message).toContain('services.bad key.commands.start: Service "bad key" needs a non-empty commands.start');
    expect(message).toContain('services.ok.comands: Unknown field "comands" (did you mean "commands"?)');
    expect(message).toContain('tasks.t.dependsOn[0]: Unknown dependency "nope"');
    expect(JSON.stringify((await td.call('ListServices', {})).body)).toBe(before);
  });

  it('refuses a request without a file; an empty file removes what files made', async () => {
    const td = await startTestDaemon();
    await td.call('UpsertAutomationsFile', { automationsFile: webAndDb(td.workspace) });
    const made = (await td.call('ListServices', {})).body.services.length;
    expect(made).toBe(2);
    await expect(td.client.environments.automations.upsert({})).rejects.toMatchObject({
      status: 400,
      error: { code: 'invalid_argument', message: expect.stringContaining('Missing "automationsFile"') },
    });
    expect((await td.call('UpsertAutomationsFile', { automationsFile: null })).status).toBe(400);
    expect((await td.call('ListServices', {})).body.services).toHaveLength(made);
    await td.client.environments.automations.upsert({ automationsFile: {} });
    await waitFor(async () => (await td.call('ListServices', {})).body.services.length === 0, { what: 'the file-made services to go' });
    expect((await td.call('ListTasks', {})).body.tasks).toHaveLength(0);
  });
});

describe('triggers', () => {
  it('one firing starts the triggered services and runs each task at most once, sharing dependencies', async () => {
    const td = await startTestDaemon();
    await td.call('UpsertAutomationsFile', { automationsFile: webAndDb(td.workspace) });
    const fired = td.daemon.automations.fire(['postEnvironmentStart', 'postDevcontainerStart']);
    expect(fired.serviceIds).toHaveLength(2);
    expect(fired.executionIds).toHaveLength(3);
    const executions = await Promise.all(fired.executionIds.map((id) => waitExecution(td.client, id)));
    expect(executions.map((execution) => execution.status.phase)).toEqual(Array(3).fill('TASK_EXECUTION_PHASE_SUCCEEDED'));
    expect(executions.map((execution) => execution.metadata.startedBy).sort()).toEqual(['postDevcontainerStart', 'postEnvironmentStart', 'postEnvironmentStart']);
    // install is in all three plans, and ran once.
    expect(readFileSync(join(td.workspace, 'install.count'), 'utf8')).toBe('x\n');
    for (const ref of ['web', 'db']) await waitPhase(td.client, (await byRef(td, ref)).id, 'SERVICE_PHASE_RUNNING');

    // A second firing is a new firing: install runs again, once.
    const manual = td.daemon.automations.fire(['postEnvironmentStart']);
    await Promise.all(manual.executionIds.map((id) => waitExecution(td.client, id)));
    expect(readFileSync(join(td.workspace, 'install.count'), 'utf8')).toBe('x\nx\n');
  });
});

describe('watching the automations file', () => {
  const file = (dir: string, start = 'exec sleep 60') =>
    [
      'services:',
      '  web:',
      `    commands: {start: "echo $$ > ${dir}/web.pid; ${start}"}`,
      '  db:',
      `    commands: {start: "echo $$ > ${dir}/db.pid; exec sleep 60"}`,
      'tasks:',
      '  build: {command: "true", dependsOn: [db]}',
      '',
    ].join('\n');

  async function watched() {
    const td0 = await startTestDaemon();
    await td0.stop();
    const path = join(td0.workspace, 'automations.yaml');
    writeFileSync(path, file(td0.workspace));
    const td = await startTestDaemon({ workspace: td0.workspace, stateDir: td0.stateDir, automationsFile: path, reloadDebounceMs: 50 });
    const watcher = td.daemon.watcher!;
    expect(watcher.status.reloads).toBe(1);
    expect(watcher.status.problems).toEqual([]);
    return { td, watcher, path };
  }

  it('applies a save by rename as exactly one reload', async () => {
    const { td, watcher, path } = await watched();
    const temporary = join(td.workspace, '.automations.yaml.swp');
    writeFileSync(temporary, file(td.workspace, 'exec sleep 61'));
    renameSync(temporary, path);
    await waitFor(() => watcher.status.reloads === 2, { what: 'the reload' });
    expect((await byRef(td, 'web')).spec.commands.start).toContain('sleep 61');
    // A touch with the same content is read, not applied; every earlier event was handled before it.
    const reads = watcher.status.reads;
    writeFileSync(path, file(td.workspace, 'exec sleep 61'));
    await waitFor(() => watcher.status.reads === reads + 1, { what: 'the touch to be read' });
    expect(watcher.status.reloads).toBe(2);
  });

  it('folds a burst of saves into one reload of the last content', async () => {
    const { td, watcher, path } = await watched();
    for (let index = 0; index < 10; index++) writeFileSync(path, file(td.workspace, `exec sleep ${70 + index}`));
    await waitFor(() => watcher.status.reloads === 2, { what: 'the reload' });
    expect((await byRef(td, 'web')).spec.commands.start).toContain('sleep 79');
    const reads = watcher.status.reads;
    writeFileSync(path, file(td.workspace, 'exec sleep 79'));
    await waitFor(() => watcher.status.reads === reads + 1, { what: 'the touch to be read' });
    expect(watcher.status.reloads).toBe(2);
    expect(watcher.status.reads).toBe(3);
  });

  it('an invalid edit keeps everything running untouched and reports the problems; a fix applies', async () => {
    const { td, watcher, path } = await watched();
    const web = await byRef(td, 'web');
    await td.client.environments.automations.services.start({ id: web.id });
    const running = await waitPhase(td.client, web.id, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(join(td.workspace, 'web.pid'));
    writeFileSync(path, file(td.workspace).replace('  build: {command: "true", dependsOn: [db]}', '  build: {comand: "true", dependsOn: [dbb]}'));
    await waitFor(() => watcher.status.problems.length > 0, { what: 'the problems to be reported' });
    const problems = [
      `${path}:7:3: tasks.build: Task "build" needs a non-empty command`,
      `${path}:7:11: tasks.build.comand: Unknown field "comand" (did you mean "command"?)`,
      `${path}:7:39: tasks.build.dependsOn[0]: Unknown dependency "dbb": no task or service has this key (did you mean "db"?)`,
    ];
    expect(watcher.status.problems).toEqual(problems);
    const status = await fetch(`${td.daemon.info.url}/tend.v1.DaemonService/GetStatus`, {
      method: 'POST',
      headers: { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await status.json()) as any).automationsFile.problems).toEqual(problems);
    const after = await getService(td.client, web.id);
    expect(after.status?.statusVersion).toBe(running.status?.statusVersion);
    expect(pidAlive(pid)).toBe(true);

    writeFileSync(path, file(td.workspace, 'exec sleep 62'));
    await waitFor(() => watcher.status.problems.length === 0 && watcher.status.reloads === 3, { what: 'the fix to apply' });
    await waitFor(async () => (await getService(td.client, web.id)).spec?.commands?.start?.includes('sleep 62'), { what: 'the new spec' });
  });

  it('a file truncated and left empty for longer than the debounce deletes nothing; the same content back changes nothing', async () => {
    const { td, watcher, path } = await watched();
    const web = await byRef(td, 'web');
    await td.client.environments.automations.services.start({ id: web.id });
    const running = await waitPhase(td.client, web.id, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(join(td.workspace, 'web.pid'));
    const before = (await td.call('ListServices', {})).body.services.map((service: { id: string }) => service.id).sort();
    const content = readFileSync(path, 'utf8');
    for (const empty of ['', '\n# nothing here yet\n']) {
      const reads = watcher.status.reads;
      writeFileSync(path, empty);
      // Read after the debounce (50 ms) passed with the file empty: a problem, nothing deleted.
      await waitFor(() => watcher.status.reads > reads && watcher.status.problems.length > 0, { what: 'the empty file to be read' });
      expect(watcher.status.problems).toEqual([
        `${path}:1:1: The file is empty (no services, no tasks): to remove every service and task on purpose, write "services: {}"`,
      ]);
      expect((await td.call('ListServices', {})).body.services.map((service: { id: string }) => service.id).sort()).toEqual(before);
      expect((await td.call('ListTasks', {})).body.tasks).toHaveLength(1);
    }
    writeFileSync(path, content);
    await waitFor(() => watcher.status.problems.length === 0, { what: 'the content to be back' });
    expect((await td.call('ListServices', {})).body.services.map((service: { id: string }) => service.id).sort()).toEqual(before);
    expect((await getService(td.client, web.id)).status?.statusVersion).toBe(running.status?.statusVersion);
    expect(pidAlive(pid)).toBe(true);
    expect(watcher.status.reloads).toBe(3);
    // Everything goes only when the file says so.
    writeFileSync(path, 'services: {}\n');
    await waitFor(async () => (await td.call('ListServices', {})).body.services.length === 0, { what: 'the services to be deleted' });
  });
});

describe('a service added to the file of a running daemon', () => {
  it('is started when its start trigger already fired; one whose trigger did not fire, and a new task, wait', async () => {
    const td0 = await startTestDaemon();
    await td0.stop();
    const dir = td0.workspace;
    const path = join(dir, 'automations.yaml');
    const lines = ['services:', '  web: {commands: {start: "exec sleep 60"}, triggeredBy: [postDevcontainerStart]}', 'tasks:', '  setup: {command: "true", triggeredBy: [postEnvironmentStart]}'];
    writeFileSync(path, `${lines.join('\n')}\n`);
    const td = await startTestDaemon({ workspace: dir, stateDir: td0.stateDir, automationsFile: path, reloadDebounceMs: 20, startTriggers: ['postEnvironmentStart', 'postDevcontainerStart'] });
    const watcher = td.daemon.watcher!;
    await waitPhase(td.client, (await byRef(td, 'web')).id, 'SERVICE_PHASE_RUNNING');
    const executions = async () => (await td.call('ListTaskExecutions', {})).body.taskExecutions.length;
    await waitFor(async () => (await executions()) === 1, { what: 'the setup execution' });

    writeFileSync(
      path,
      `${[
        ...lines.slice(0, 2),
        `  worker: {commands: {start: "echo $$ > ${dir}/worker.pid; exec sleep 60"}, triggeredBy: [postDevcontainerStart]}`,
        '  debugger: {commands: {start: "exec sleep 60"}, triggeredBy: [manual]}',
        ...lines.slice(2),
        `  seed: {command: "echo seeded >> ${dir}/seed.log", triggeredBy: [postEnvironmentStart]}`,
      ].join('\n')}\n`,
    );
    await waitFor(() => watcher.status.reloads === 2, { what: 'the edit to apply' });
    const worker = await waitPhase(td.client, (await byRef(td, 'worker')).id, 'SERVICE_PHASE_RUNNING');
    expect(pidAlive(await readPidFile(join(dir, 'worker.pid')))).toBe(true);
    expect(worker.spec?.desiredPhase).toBe('SERVICE_PHASE_RUNNING');
    const debuggerService = await byRef(td, 'debugger');
    expect(debuggerService.status.phase).toBe('SERVICE_PHASE_STOPPED');
    expect(debuggerService.spec.desiredPhase).toBe('SERVICE_PHASE_STOPPED');
    expect(await executions()).toBe(1);
    expect(td.daemon.automations.firedTriggers).toEqual(['postEnvironmentStart', 'postDevcontainerStart']);
    // The task runs on its next trigger.
    const fired = td.daemon.automations.fire(['postEnvironmentStart']);
    for (const id of fired.executionIds) await waitExecution(td.client, id, 'TASK_EXECUTION_PHASE_SUCCEEDED');
    await waitFor(() => readFileSync(join(dir, 'seed.log'), 'utf8') === 'seeded\n', { what: 'the seed task to run once' });
  });
});
