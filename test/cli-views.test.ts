/**
 * The CLI's views and verbs with real processes: `tend ps` and `tend status` tables (pid, uptime,
 * ports, one-line reasons) that stay readable with multi-line commands and long names, `tend
 * status` failing when something failed and saying what, DEPENDS ON as references, `tend
 * services restart`, and `tend up --detach --wait-timeout` naming what was not ready.
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { tendWorkspace } from './helpers/workspace.js';
import { pidAlive } from './helpers/services.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}


describe('tend ps and tend status', () => {
  it('one row per service and task, one line each: pid, uptime, ports, exit 3 and its last line as the reason', async () => {
    const port = await freePort();
    const ws = tendWorkspace([
      'services:',
      '  web:',
      '    commands:',
      `      start: node -e "require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')"`,
      `      ready: gitpod environment port open ${port} --name web`,
      '    triggeredBy: [postEnvironmentStart]',
      '  a-background-worker-with-a-really-long-name:',
      '    commands: {start: "exec sleep 60"}',
      '    triggeredBy: [postEnvironmentStart]',
      '  config:',
      '    commands:',
      '      start: |',
      '        echo "reading config"',
      '        echo "fatal: config missing" >&2',
      '        exit 3',
      '    triggeredBy: [postEnvironmentStart]',
      'tasks:',
      '  install: {command: "echo installed", triggeredBy: [postEnvironmentStart]}',
      '  build:',
      '    command: |',
      '      echo compiling',
      '      exit 2',
      '    dependsOn: [install, web]',
      '    triggeredBy: [postEnvironmentStart]',
    ]);
    const up = await ws.tend('up', '--detach');
    expect(up.code).toBe(1);

    const ps = await ws.tend('ps');
    expect(ps.code).toBe(0);
    const lines = ps.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^KIND +NAME +PHASE +PID +UPTIME +PORTS +REASON$/);
    expect(lines[1]).toMatch(new RegExp(`^service +web +running +\\d+ +\\d+s +${port}$`));
    expect(lines[2]).toMatch(/^service +a-background-worker-with-a-really-long-name +running +\d+ +\d+s$/);
    expect(lines[3]).toMatch(/^service +config +failed +exit 3: fatal: config missing$/);
    expect(lines[4]).toMatch(/^task +install +succeeded +\d+\.\ds$/);
    expect(lines[5]).toMatch(/^task +build +failed +\d+\.\ds +exit 2: compiling$/);
    // Columns line up whatever the length of a name.
    const phaseColumn = lines[0]!.indexOf('PHASE');
    for (const line of lines.slice(1)) expect(line.slice(phaseColumn)).toMatch(/^(running|failed|succeeded) /);

    const status = await ws.tend('status');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`\n${lines[0]}\n`);
    expect(status.stdout).toContain(`\n${lines[3]}\n`);
    expect(status.stdout).toContain('Not all is well: service "config" failed (exit 3: fatal: config missing); the latest execution of task "build" failed (exit 2: compiling)');
    expect(status.stdout).toContain(`ports:\n  ${port} web http://127.0.0.1:${port} (service web)`);

    const json = JSON.parse((await ws.tend('ps', '--json')).stdout) as Array<{ name: string; exitCode: number | null; pid: number | null }>;
    expect(json.find((row) => row.name === 'config')?.exitCode).toBe(3);
    expect(json.find((row) => row.name === 'web')?.pid).toEqual(expect.any(Number));

    const services = await ws.tend('services', 'list');
    expect(services.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect(services.stdout).toMatch(/\nconfig +failed +running +echo "reading config"; echo "fatal: config missing" >&2; exit 3 +exit 3: fatal: config missing\n/);
    const tasks = await ws.tend('tasks', 'list');
    expect(tasks.stdout).toMatch(/\nbuild +echo compiling; exit 2 +install,web\n/);
  });
});

describe('verbs', () => {
  it('tend stop stops the named services, or every one, by the stop rules and waits until they are down; the daemon goes on', async () => {
    const ws = tendWorkspace([
      'services:',
      '  web:',
      '    commands: {start: "exec sleep 60", ready: "true"}',
      '    triggeredBy: [postEnvironmentStart]',
      '  worker:',
      '    commands: {start: "exec sleep 60"}',
      '    triggeredBy: [postEnvironmentStart]',
      // Still going down when tend stop first reads it: it then follows the events.
      '  slow:',
      `    commands: {start: "trap 'sleep 0.3; exit 0' TERM; sleep 60 & wait"}`,
      '    triggeredBy: [postEnvironmentStart]',
    ]);
    expect((await ws.tend('up', '--detach')).code).toBe(0);
    const rows = async () => Object.fromEntries((JSON.parse((await ws.tend('ps', '--json')).stdout) as Array<{ name: string; phase: string; pid?: number }>).map((row) => [row.name, row]));
    const before = await rows();
    const one = await ws.tend('stop', 'web');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe('Stopped web\n');
    const afterOne = await rows();
    expect([afterOne.web!.phase, afterOne.worker!.phase, afterOne.slow!.phase]).toEqual(['stopped', 'running', 'running']);
    expect(pidAlive(before.web!.pid!)).toBe(false);
    const all = await ws.tend('stop');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\n').sort()).toEqual(['', 'Stopped slow', 'Stopped web', 'Stopped worker']);
    expect((await rows()).slow!.phase).toBe('stopped');
    for (const name of ['worker', 'slow']) expect(pidAlive(before[name]!.pid!)).toBe(false);
    // The daemon still answers: a service starts again.
    expect((await ws.tend('services', 'start', 'worker')).code).toBe(0);
    const missing = await ws.tend('stop', 'web', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('tend: Service "nope" not found: `tend services list` shows them all\n');
  });

  it('tend services restart stops by the stop rules, starts a new session and waits until it runs', async () => {
    const ws = tendWorkspace(['services:', '  web:', '    commands: {start: "exec sleep 60", ready: "true"}', '    triggeredBy: [postEnvironmentStart]']);
    expect((await ws.tend('up', '--detach')).code).toBe(0);
    const pid = () => ws.tend('ps', '--json').then((result) => (JSON.parse(result.stdout) as Array<{ pid: number }>)[0]!.pid);
    const before = await pid();
    const restart = await ws.tend('services', 'restart', 'web');
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stdout).toBe('Restarted web: running\n');
    const after = await pid();
    expect(after).not.toBe(before);
    const missing = await ws.tend('services', 'restart', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('tend: Service "nope" not found: `tend services list` shows them all\n');
  });

  it('tend up --detach --wait-timeout gives up, naming what was not ready and why, and leaves it running', async () => {
    const ws = tendWorkspace([
      'services:',
      '  db:',
      '    commands:',
      '      start: "exec sleep 60"',
      '      ready: "echo \'db: no response\'; exit 2"',
      '    triggeredBy: [postEnvironmentStart]',
    ]);
    const up = await ws.tend('up', '--detach', '--wait-timeout', '1s');
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(
      /^tend: Timed out after 1s waiting for service db: starting for \d+s; ready command "echo 'db: no response'; exit 2": \d+ probes so far, the last exited 2: db: no response; they go on in the background \(`tend status`, `tend logs -f`\)\n$/,
    );
    expect((await ws.tend('ps')).stdout).toMatch(/\nservice +db +starting +\d+ +\d+s +ready command: exit 2: db: no response\n/);
    const bad = await ws.tend('up', '--detach', '--wait-timeout', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('tend: Invalid --wait-timeout: Invalid duration "soon"');
  });
});
