/**
 * A service's `spec.session` is the client's string: it is shown as `status.session` and never
 * names a file, a marker or anything else. Each run's files and processes are its own.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findProcesses, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { startTestDaemon } from './helpers/daemon.js';
import { getService, pidAlive, readPidFile, runIdOf, waitPhase } from './helpers/services.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

/** Every file below `dir`, as paths relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => statSync(join(dir, path)).isFile()).sort();
}

describe('sessions', () => {
  it('two services given the same spec.session keep their own log, outputs and processes; stopping one leaves the other RUNNING', async () => {
    const { client, workspace, daemon } = await startTestDaemon();
    const ids: string[] = [];
    for (const name of ['a', 'b']) {
      const { service } = await client.environments.automations.services.create({
        metadata: { reference: name },
        spec: {
          commands: { start: `echo $$ > ${workspace}/${name}.pid; echo "I am ${name}"; echo WHO=${name} >> "$GITPOD_OUTPUT"; exec sleep 60` },
          session: 'same',
          desiredPhase: 'SERVICE_PHASE_RUNNING',
        },
      });
      ids.push(service!.id!);
    }
    const [a, b] = ids as [string, string];
    const pids = { a: await readPidFile(join(workspace, 'a.pid')), b: await readPidFile(join(workspace, 'b.pid')) };
    await waitFor(async () => (await getService(client, a)).status?.output?.WHO === 'a' && (await getService(client, b)).status?.output?.WHO === 'b', {
      what: 'each service its own output',
    });
    const [serviceA, serviceB] = [await getService(client, a), await getService(client, b)];
    expect(serviceA.status?.session).toBe('same');
    expect(serviceB.status?.session).toBe('same');
    expect(serviceA.status?.logUrl).not.toBe(serviceB.status?.logUrl);
    const headers = { authorization: `Bearer ${daemon.token}` };
    expect(await (await fetch(`${serviceA.status!.logUrl}?follow=false`, { headers })).text()).toBe('I am a\n');
    expect(await (await fetch(`${serviceB.status!.logUrl}?follow=false`, { headers })).text()).toBe('I am b\n');

    await client.environments.automations.services.stop({ id: a });
    await waitPhase(client, a, 'SERVICE_PHASE_STOPPED');
    expect(pidAlive(pids.a)).toBe(false);
    expect(pidAlive(pids.b)).toBe(true);
    expect((await getService(client, b)).status?.phase).toBe('SERVICE_PHASE_RUNNING');
    expect(findProcesses([], SESSION_MARKER_VAR, runIdOf(serviceB)).map((ref) => ref.pid)).toContain(pids.b);
  });

  it('a session such as "../../x" or "s-1" writes nothing outside the state directory, and its logUrl serves the log', async () => {
    const root = tempDir();
    const workspace = join(root, 'workspace');
    const stateDir = join(root, 'state');
    const { client, daemon } = await startTestDaemon({ workspace, stateDir });
    const before = tree(root).filter((path) => !path.startsWith('state/'));
    const headers = { authorization: `Bearer ${daemon.token}` };
    for (const [index, session] of ['../../x', 's-1', '/etc/passwd'].entries()) {
      const { service } = await client.environments.automations.services.create({
        metadata: { reference: `odd${index}` },
        spec: { commands: { start: `echo "session ${index}"; echo K=v >> "$GITPOD_OUTPUT"; exec sleep 60` }, session, desiredPhase: 'SERVICE_PHASE_RUNNING' },
      });
      const running = await waitPhase(client, service!.id!, 'SERVICE_PHASE_RUNNING');
      expect(running.status?.session).toBe(session);
      await waitFor(async () => (await getService(client, running.id!)).status?.output?.K === 'v', { what: 'its output' });
      await waitFor(async () => (await (await fetch(`${running.status!.logUrl}?follow=false`, { headers })).text()) === `session ${index}\n`, {
        what: `the log of session "${session}"`,
      });
    }
    // Everything tend wrote is under the state directory; nothing appeared beside it or above it.
    expect(tree(root).filter((path) => !path.startsWith('state/'))).toEqual(before);
    expect(readdirSync(dirname(root)).filter((name) => name === 'x')).toEqual([]);
  });
});
