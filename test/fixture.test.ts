/**
 * The fixture modelled on real automations files (`fixtures/ona-style`): it comes up with
 * `tend up --detach` and goes down with `tend down`, both run from a subdirectory of it, and
 * nothing is left afterwards.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findProcesses, sendSignal } from '../src/runtime/machine/proc.js';
import { listeningSockets } from '../src/runtime/machine/listening-sockets.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/ona-style');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

describe('fixtures/ona-style', () => {
  it('comes up with tend up --detach and down with tend down from a subdirectory, leaving nothing', async () => {
    const dir = join(tempDir(), 'ona-style');
    cpSync(FIXTURE, dir, { recursive: true });
    const tag = randomUUID();
    const [web, db] = [await freePort(), await freePort()];
    const env = { TEST_TAG: tag, WEB_PORT: String(web), DB_PORT: String(db) };
    const sub = join(dir, 'web');
    onTestFinished(async () => {
      await runCli(['down', '--workspace', dir]);
      for (const ref of findProcesses([], 'TEST_TAG', tag)) sendSignal(ref.pid, 'SIGKILL');
    });
    const tend = (...args: string[]) => runCli(args, { cwd: sub, env });

    expect((await tend('validate')).stdout).toBe(`${join(dir, '.gitpod/automations.yaml')} is valid: 2 services, 2 tasks\n`);
    const up = await tend('up', '--detach');
    expect(up.code, `${up.stdout}${up.stderr}`).toBe(0);
    expect(up.stdout).toContain(`(state in ${join(dir, '.tend')})`);
    expect(up.stdout).toMatch(/tend: service database: waiting for ready command "sleep 1 && .*" since \d+s \(readiness timeout 1m\)/);
    expect(up.stdout).toContain('service database: running\nservice web: running\ntask setup: succeeded\n');
    expect(await (await fetch(`http://127.0.0.1:${web}/`)).text()).toBe('hello from /\n');

    const status = await tend('status');
    // The web server's port (recorded by its ready command), and the database's (found among its sockets).
    expect(status.stdout).toContain('\nports:\n');
    expect(status.stdout).toContain(`\n  ${web} web http://127.0.0.1:${web} (service web)\n`);
    expect(status.stdout).toMatch(/\n {2}\d+ database http:\/\/127\.0\.0\.1:\d+ \(service database\) \(found listening\)\n/);
    expect(status.stdout).toMatch(/\nservice +database +running +\d+ +\S+ +\d+\n/);
    const setup = await tend('tasks', 'logs', 'setup');
    expect(setup.stdout).toContain('setup: the database accepts connections\nseed: inserting rows\nseed: 3 rows inserted\n');
    const database = await tend('services', 'logs', 'database');
    expect(database.stdout).toContain('database:\tstarting\ndatabase: replaying WAL segment 1/3\n');

    const down = await tend('down');
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^Stopping the tend daemon \d+ and everything it runs\n$/);
    await waitFor(() => findProcesses([], 'TEST_TAG', tag).length === 0, { what: 'every process of the fixture to be gone' });
    expect(listeningSockets().filter((socket) => socket.port === web || socket.port === db)).toEqual([]);
    expect(existsSync(join(dir, '.tend', 'daemon.json'))).toBe(false);
    expect(existsSync(join(sub, '.tend'))).toBe(false);
    expect((await tend('status')).code).toBe(1);
  });
});
