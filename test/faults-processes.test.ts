/**
 * Issue 17, processes: nothing waits for ever on /proc or on a process that never started, no
 * descendant escapes a stop, and a service step ends whatever its service does.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnDaemon } from './helpers/cli.js';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, getService, pidAlive, readPidFile, waitPhase } from './helpers/services.js';
import { createTask, waitExecution } from './helpers/tasks.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

describe('processes under faults', () => {
  it('a descendant that clears its environment and leaves the group is found by its parent and stopped too', async () => {
    const { client, workspace } = await startTestDaemon();
    const id = await createService(client, 'escapee', {
      start: `setsid env -i sh -c 'echo $$ > ${workspace}/escaped.pid; exec sleep 60' & wait`,
    });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const escaped = await readPidFile(join(workspace, 'escaped.pid'));
    await client.environments.automations.services.stop({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(escaped)).toBe(false);
  });

  it('a stopped process (SIGSTOP) is continued to see its SIGTERM, long before the stop timeout', async () => {
    const { client, workspace } = await startTestDaemon({ stopTimeoutMs: 600_000 });
    const id = await createService(client, 'paused', {
      start: `trap 'echo termed > ${workspace}/termed; exit 0' TERM; echo $$ > ${workspace}/paused.pid; while :; do sleep 0.05 & wait $!; done`,
    });
    await client.environments.automations.services.start({ id });
    await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const pid = await readPidFile(join(workspace, 'paused.pid'));
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => /^T/.test(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1] ?? ''), { what: 'the shell to be stopped' });
    await client.environments.automations.services.stop({ id });
    // Its trap ran: it saw the SIGTERM (a SIGKILL would have come only after ten minutes).
    await waitPhase(client, id, 'SERVICE_PHASE_STOPPED');
    expect(readFileSync(join(workspace, 'termed'), 'utf8')).toBe('termed\n');
  });

  it('a spawn the filesystem refuses (its log cannot be opened) is FAILED with the reason, for a service and a task step', async () => {
    const { client, stateDir } = await startTestDaemon();
    rmSync(join(stateDir, 'logs'), { recursive: true, force: true });
    writeFileSync(join(stateDir, 'logs'), 'not a directory');
    const id = await createService(client, 'web', { start: 'sleep 60' });
    await client.environments.automations.services.start({ id });
    const failed = await waitPhase(client, id, 'SERVICE_PHASE_FAILED');
    expect(failed.status?.failureMessage).toMatch(/^Cannot start service "web": Cannot open its log file: (EEXIST|ENOTDIR)/);
    const task = await createTask(client, 'build', 'true');
    const { taskExecution } = await client.environments.automations.tasks.start({ id: task });
    const ended = await waitExecution(client, taskExecution!.id!);
    expect(ended.status?.phase).toBe('TASK_EXECUTION_PHASE_FAILED');
    expect(ended.status?.steps?.[0]?.failureMessage).toMatch(/^Cannot start task "build": Cannot open its log file/);
  });

  it('when /proc cannot be read, a stop still ends (the service\'s own group killed, the reason given) and SIGTERM still stops the daemon', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const flag = join(root, 'no-more-fds');
    const daemon = await spawnDaemon(['--workspace', root, '--stop-timeout', '300ms'], stateDir, { TEND_FAULT: `proc-emfile:${flag}` });
    const { readFileSync } = await import('node:fs');
    const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const api = async (method: string, body: unknown): Promise<any> =>
      (await fetch(`${daemon.info.url}/gitpod.v1.EnvironmentAutomationService/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })).json();
    const make = async (reference: string): Promise<string> => {
      const { service } = await api('CreateService', { metadata: { reference }, spec: { commands: { start: `echo $$ > ${root}/${reference}.pid; exec sleep 60` } } });
      await api('StartService', { id: service.id });
      return service.id;
    };
    const first = await make('first');
    const second = await make('second');
    const pids = [await readPidFile(join(root, 'first.pid')), await readPidFile(join(root, 'second.pid'))];
    await waitFor(async () => (await api('GetService', { id: second })).service.status.phase === 'SERVICE_PHASE_RUNNING');
    writeFileSync(flag, '');
    await api('StopService', { id: first });
    const stopped = await waitFor(async () => {
      const { service } = await api('GetService', { id: first });
      return service.status.phase === 'SERVICE_PHASE_FAILED' ? service : undefined;
    }, { what: 'the stop to end though /proc fails' });
    expect(stopped.status.failureMessage).toMatch(/^Cannot find the service's processes \(Cannot read \/proc\S*: EMFILE\): its process group was killed/);
    expect(pidAlive(pids[0]!)).toBe(false);
    expect(await daemon.stop()).toBe(0);
    expect(pidAlive(pids[1]!)).toBe(false);
  });

  it('a service step ends when its service is restarted for a spec change while the trigger fires', async () => {
    const td = await startTestDaemon();
    const file = (start: string) => ({
      services: { db: { commands: { start, ready: 'true' }, triggeredBy: ['manual' as const] } },
      tasks: { migrate: { command: 'echo migrated', dependsOn: ['db'], triggeredBy: ['manual' as const] } },
    });
    await td.daemon.automations.apply(file('exec sleep 60'));
    const db = td.daemon.services.findByReference('db')!;
    td.daemon.services.start(db.id);
    await waitPhase(td.client, db.id, 'SERVICE_PHASE_RUNNING');
    for (let round = 0; round < 5; round++) {
      const applying = td.daemon.automations.apply(file(`exec sleep ${60 + round}`));
      const { executionIds } = td.daemon.automations.fire(['manual']);
      await applying;
      for (const id of executionIds) {
        const ended = await waitExecution(td.client, id, undefined, 10_000);
        expect(ended.status?.phase).toBe('TASK_EXECUTION_PHASE_SUCCEEDED');
      }
    }
    expect((await getService(td.client, db.id)).spec?.commands?.start).toBe('exec sleep 64');
  });
});
