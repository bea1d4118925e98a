/**
 * The foreground of `tend up` as a stream (stdout not a terminal), with real processes: how it
 * ends (Ctrl-C, a second Ctrl-C, SIGHUP, `tend down` from elsewhere, a daemon that dies), that it
 * follows the event stream (a restart's new session, a service added to the file, a task started
 * from elsewhere), and `tend up NAME…`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tendWorkspace } from './helpers/workspace.js';



const WEB = [
  'services:',
  '  web:',
  '    commands:',
  '      start: \'echo "web up $$"; while :; do echo "web tick"; sleep 0.2; done\'',
  '      ready: "true"',
  '    triggeredBy: [postEnvironmentStart]',
  'tasks:',
  '  seed: {command: "echo seeding; echo seeded", triggeredBy: [manual]}',
];

const STUBBORN = [
  'services:',
  '  stubborn:',
  '    commands:',
  '      start: "trap \'\' TERM; echo holding on; while :; do sleep 0.1; done"',
  '    triggeredBy: [postEnvironmentStart]',
];

describe('how a foreground tend up ends', () => {
  it('Ctrl-C stops everything by the stop rules and exits 0, saying so as it begins and once it is done: no stack trace', async () => {
    const ws = tendWorkspace(WEB);
    const tend = ws.start('up');
    await tend.see(/web +\| web tick\n/);
    tend.child.kill('SIGINT');
    expect(await tend.exited).toBe(0);
    expect(tend.err()).toBe('');
    expect(tend.out().match(/stopping everything/g)).toHaveLength(1);
    expect(tend.out()).toMatch(/tend +\| stopping everything by the stop rules \(Ctrl-C again forces\)\n/);
    expect(tend.out()).toMatch(/tend +\| stopped everything by the stop rules\n$/);
    expect(tend.out()).not.toMatch(/TypeError|terminated|UND_ERR|at .*\.js:\d+/);
    expect(ws.left()).toBe(0);
  });

  it('a second Ctrl-C forces: SIGKILL to what is left, said, exit 130, long before the stop timeout', async () => {
    const ws = tendWorkspace(STUBBORN);
    const tend = ws.start('up', '--stop-timeout', '1m');
    await tend.see(/stubborn +\| holding on\n/);
    tend.child.kill('SIGINT');
    await tend.see('stopping everything');
    await tend.see(/service stubborn: stopping/);
    expect(ws.left()).toBeGreaterThan(0);
    tend.child.kill('SIGINT');
    expect(await tend.exited).toBe(130);
    expect(tend.out()).toMatch(/tend +\| forcing: SIGKILL to the \d+ process(es)? left \(pid [\d, ]+\)\n/);
    expect(tend.err()).toBe('');
    expect(ws.left()).toBe(0);
    // The daemon noticed and stopped; the next tend up starts afresh.
    expect((await ws.tend('status')).stderr).toContain('No tend daemon is running');
  });

  it('SIGHUP (the terminal closed) stops everything as Ctrl-C does', async () => {
    const ws = tendWorkspace(WEB);
    const tend = ws.start('up');
    await tend.see('web tick');
    tend.child.kill('SIGHUP');
    expect(await tend.exited).toBe(0);
    expect(tend.err()).toBe('');
    expect(ws.left()).toBe(0);
  });

  it('tend down from another terminal ends it cleanly; a daemon that dies ends it with exit 1 and says where its log is', async () => {
    const ws = tendWorkspace(WEB);
    const tend = ws.start('up');
    await tend.see('web tick');
    expect((await ws.tend('down')).code).toBe(0);
    expect(await tend.exited).toBe(0);
    expect(tend.out()).toMatch(/tend +\| the daemon was stopped \(`tend down`\): everything it ran is stopped\n$/);
    expect(tend.err()).toBe('');

    const again = ws.start('up');
    await again.see('web tick');
    const { pid } = JSON.parse(readFileSync(join(ws.dir, '.tend', 'daemon.json'), 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL');
    expect(await again.exited).toBe(1);
    expect(again.out()).toContain(`the daemon exited unexpectedly (its log: ${join(ws.dir, '.tend', 'daemon.log')}): \`tend up\` starts it again and takes over what it left running`);
    expect(again.err()).toBe('');
  });
});

describe('a foreground tend up follows the event stream', () => {
  it('shows a restart\'s new session, a service added to the file, a task started from elsewhere', async () => {
    const ws = tendWorkspace(WEB);
    const tend = ws.start('up');
    const first = Number((await tend.see(/web +\| web up \d+/), /web +\| web up (\d+)/.exec(tend.out())![1]));
    const restart = await ws.tend('restart', 'web');
    expect(restart.stdout).toBe('Restarted web: running\n');
    await tend.see(new RegExp(`web +\\| web up (?!${first}\\b)\\d+`));

    writeFileSync(
      join(ws.dir, '.gitpod', 'automations.yaml'),
      `${[...WEB, '  # added', ''].join('\n').replace('tasks:', "  extra:\n    commands: {start: 'echo extra joined; exec sleep 60'}\n    triggeredBy: [postEnvironmentStart]\ntasks:")}`,
    );
    await tend.see(/extra +\| extra joined\n/);
    await tend.see(/tend +\| service extra: running\n/);

    expect((await ws.tend('tasks', 'start', 'seed')).code).toBe(0);
    await tend.see(/seed +\| seeding\nseed +\| seeded\n/);
    await tend.see(/tend +\| task seed: succeeded\n/);
    // Its outcome comes after its output.
    expect(tend.out().indexOf('task seed: succeeded')).toBeGreaterThan(tend.out().indexOf('| seeded'));
    tend.child.kill('SIGINT');
    expect(await tend.exited).toBe(0);
  });
});

describe('tend up NAME…', () => {
  const FILE = [
    'services:',
    '  web:',
    '    commands: {start: "echo web serving; exec sleep 60", ready: "true"}',
    '    triggeredBy: [postEnvironmentStart]',
    '  worker:',
    '    commands: {start: "echo working; exec sleep 60"}',
    '    triggeredBy: [postEnvironmentStart]',
    'tasks:',
    '  migrate: {command: "echo migrated", triggeredBy: [postEnvironmentStart]}',
    '  build: {command: "echo built", dependsOn: [migrate, web]}',
  ];

  it('brings up only those and what they depend on', async () => {
    const ws = tendWorkspace(FILE);
    const result = await ws.tend('up', 'build', '--detach');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/started 0 services and 1 task \(build\)\n/);
    expect(result.stdout).toContain('service web: running\ntask build: succeeded\n  migrate: succeeded\n  web: succeeded\n  build: succeeded\n');
    const ps = await ws.tend('ps');
    expect(ps.stdout).toMatch(/\nservice +web +running /);
    expect(ps.stdout).toMatch(/\nservice +worker +stopped/);
    expect(ps.stdout).toMatch(/\ntask +build +succeeded/);

    const worker = await ws.tend('up', 'worker', '--detach');
    expect(worker.stdout).toMatch(/started 1 service and 0 tasks \(worker\)\nservice worker: running\n$/);

    const unknown = await ws.tend('up', 'wrker');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('tend: No service or task "wrker" (did you mean "worker"?): `tend ps` lists them all\n');
  });
});
