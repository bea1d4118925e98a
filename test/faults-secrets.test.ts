/**
 * Issue 17, secrets and files: every log tend serves is masked with its own run's secrets, for
 * earlier sessions and after a daemon restart too, line by line for a multi-line secret, in tail
 * cuts; the state directory is its owner's only.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { createService, getService, waitPhase } from './helpers/services.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

const KEY = '-----BEGIN KEY-----\nAAAAbbbbCCCCdddd\n-----END KEY-----';

async function text(td: TestDaemon, url: string, query = 'follow=false'): Promise<string> {
  return (await fetch(`${url}?${query}`, { headers: { authorization: `Bearer ${td.daemon.token}` } })).text();
}

function secrets(stateDir: string): void {
  mkdirSync(join(stateDir, 'secrets'), { recursive: true });
  writeFileSync(join(stateDir, 'secrets', 'key'), KEY);
  writeFileSync(join(stateDir, 'secrets', 'token'), 'tok-123456');
}

const env = [
  { name: 'KEY', valueFrom: { secretRef: { id: 'key' } } },
  { name: 'TOKEN', valueFrom: { secretRef: { id: 'token' } } },
];

describe('secrets in every log tend serves', () => {
  it('an earlier session, every log after a restart, a multi-line secret line by line, and tail cuts are masked', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const workspace = join(root, 'workspace');
    secrets(stateDir);
    const first = await startTestDaemon({ stateDir, workspace });
    const id = await createService(first.client, 'leaky', { start: 'printf "%s\\n" "$KEY"; echo "token=$TOKEN"; echo done' }, { env });
    await first.client.environments.automations.services.start({ id });
    await waitFor(async () => (await getService(first.client, id)).status?.phase === 'SERVICE_PHASE_STOPPED', { what: 'the first session to end' });
    const earlier = (await getService(first.client, id)).status!.logUrl!;
    await first.client.environments.automations.services.start({ id });
    await waitFor(async () => {
      const service = await getService(first.client, id);
      return service.status?.phase === 'SERVICE_PHASE_STOPPED' && service.status.logUrl !== earlier;
    }, { what: 'the second session to end' });
    const expected = '***\ntoken=***\ndone\n';
    expect(await text(first, earlier)).toBe(expected);
    // A tail that begins inside the key: its remaining lines are still hidden.
    expect(await text(first, earlier, 'follow=false&tail=4')).toBe('***\n***\ntoken=***\ndone\n');
    const { taskExecution } = await first.client.environments.automations.tasks.start({
      id: (await first.client.environments.automations.tasks.create({ metadata: { reference: 'leak' }, spec: { command: 'echo "$TOKEN"; printf "%s\\n" "$KEY"', env } as any })).task!.id!,
    });
    await waitFor(async () => (await first.call('GetTaskExecution', { id: taskExecution!.id })).body.taskExecution.status.phase === 'TASK_EXECUTION_PHASE_SUCCEEDED');
    const executionLog = (await first.call('GetTaskExecution', { id: taskExecution!.id })).body.taskExecution.status.logUrl;
    await first.stop();

    // The secrets change (or go) while the daemon is down: the old logs are masked all the same.
    writeFileSync(join(stateDir, 'secrets', 'token'), 'another');
    const again = await startTestDaemon({ stateDir, workspace });
    const url = (origin: string) => origin.replace(/^http:\/\/[^/]+/, again.daemon.info.url);
    expect(await text(again, url(earlier))).toBe(expected);
    expect(await text(again, url((await getService(again.client, id)).status!.logUrl!))).toBe(expected);
    expect(await text(again, url(executionLog))).toBe('***\n***\n');
  });

  it('the state directory is its owner\'s only, also when it existed before, and the runner token never reaches a command', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    mkdirSync(stateDir, { mode: 0o755 });
    chmodSync(stateDir, 0o755);
    const td = await startTestDaemon({ stateDir, workspace: join(root, 'workspace'), env: { ...process.env, TEND_RUNNER_TOKEN: 'runner-secret' } });
    const id = await createService(td.client, 'env', { start: 'env > "$GITPOD_OUTPUT.env"; echo K=v >> "$GITPOD_OUTPUT"; exec sleep 60' });
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    await waitFor(async () => (await getService(td.client, id)).status?.output?.K === 'v', { what: 'the output' });
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(stateDir, { recursive: true, encoding: 'utf8' })
      .map((path) => join(stateDir, path))
      .filter((path) => statSync(path).isFile() && !path.endsWith('.env.env'));
    expect(files.length).toBeGreaterThan(5);
    // Its owner's only: nothing for the group or others (the gitpod/ona commands in bin/ are 0700).
    for (const path of files) expect({ path, mode: (statSync(path).mode & 0o777).toString(8) }).toEqual({ path, mode: path.includes('/bin/') ? '700' : '600' });
    for (const dir of ['logs', 'outputs']) expect((statSync(join(stateDir, dir)).mode & 0o777).toString(8)).toBe('700');
    const seen = readdirSync(join(stateDir, 'outputs')).filter((name) => name.endsWith('.env.env'));
    expect(seen).toHaveLength(1);
    expect(readFileSync(join(stateDir, 'outputs', seen[0]!), 'utf8')).not.toContain('TEND_RUNNER_TOKEN');
  });
});
