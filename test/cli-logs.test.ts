/**
 * `tend logs [-f] [-t] [-n N] [NAME…]` and `tend tasks start X --wait` with real processes:
 * everyone's output prefixed, a task's steps under readable headers (never the framing), the last
 * N lines, following across a restart, timestamps on what arrives, and characters split across
 * reads arriving whole.
 */
import { describe, expect, it } from 'vitest';
import { tendWorkspace } from './helpers/workspace.js';

function workspace(lines: string[]) {
  const ws = tendWorkspace(lines);
  return { dir: ws.dir, tend: ws.tend, follow: ws.start };
}

const FILE = [
  'services:',
  '  web:',
  '    commands:',
  '      start: \'echo "web: listening $$"; echo "web: 世界 ✓"; exec sleep 60\'',
  '      ready: "true"',
  '    triggeredBy: [postEnvironmentStart]',
  '  split:',
  '    commands:',
  // 世 is e4 b8 96: its bytes come in two writes, far enough apart to be two reads.
  '      start: "printf \'\\\\344\\\\270\'; sleep 0.4; printf \'\\\\226 arrived whole\\\\n\'; exec sleep 60"',
  '    triggeredBy: [manual]',
  'tasks:',
  '  install: {command: "echo resolving; echo installed 3 packages", triggeredBy: [postEnvironmentStart]}',
  '  build: {command: "echo compiling; echo build ok", dependsOn: [install]}',
  '  slow: {command: "echo first; sleep 1; echo second"}',
];

describe('tend logs', () => {
  it('prints everyone\'s output prefixed, a task\'s steps under headers, the last N lines, and says which name it does not know', async () => {
    const ws = workspace(FILE);
    expect((await ws.tend('up', '--detach')).code).toBe(0);
    expect((await ws.tend('tasks', 'start', 'build', '--wait')).code).toBe(0);

    const all = await ws.tend('logs');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^web +\| web: listening \d+\nweb +\| web: 世界 ✓\n/);
    expect(all.stdout).toContain('install | resolving\ninstall | installed 3 packages\n');
    // build's latest execution: install's step and its own, each under a header with outcome and time.
    expect(all.stdout).toMatch(/install \| ── install\ninstall \| resolving\ninstall \| installed 3 packages\ninstall \| ── install \(succeeded, \d+\.\d s\)\nbuild +\| ── build\nbuild +\| compiling\nbuild +\| build ok\nbuild +\| ── build \(succeeded, \d+\.\d s\)\n/);
    expect(all.stdout).not.toContain('[section-');

    const one = await ws.tend('logs', '-n', '1', 'web', 'build');
    expect(one.stdout).toMatch(/^web +\| web: 世界 ✓\nbuild +\| ── build\nbuild +\| build ok\nbuild +\| ── build \(succeeded, \d+\.\d s\)\n$/);

    const stamped = await ws.tend('logs', '-t', 'web');
    // Earlier lines have no time (tend's logs keep none): a blank column of the same width.
    expect(stamped.stdout).toMatch(/^web +\| {26}web: listening \d+\n/);

    const unknown = await ws.tend('logs', 'wbe');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('tend: No service or task "wbe" (did you mean "web"?): `tend ps` lists them all\n');
    const bad = await ws.tend('logs', '-n', 'ten');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('tend: Invalid --tail "ten": give a number of lines, or all\n');
  });

  it('-f follows across a restart with times on what arrives, and a character split across reads arrives whole', async () => {
    const ws = workspace(FILE);
    expect((await ws.tend('up', '--detach')).code).toBe(0);
    const logs = ws.follow('logs', '-f', '-t', 'web', 'split');
    await logs.see(/web +\| {26}web: 世界 ✓\n/);
    expect((await ws.tend('restart', 'web')).code).toBe(0);
    await logs.see(/web +\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z web: listening \d+\nweb +\| \d{4}-\d\d-\d\dT[\d:.]+Z web: 世界 ✓\n/);

    expect((await ws.tend('services', 'start', 'split')).code).toBe(0);
    await logs.see(/split +\| [\dT:.Z-]+ 世 arrived whole\n/);
    expect(logs.out()).not.toContain('\ufffd');

    logs.child.kill('SIGINT');
    expect(await logs.exited).toBe(0);
    expect(logs.err()).toBe('');
  });
});

describe('tend tasks start --wait', () => {
  it('streams the output as the task runs, then its outcome', async () => {
    const ws = workspace(FILE);
    expect((await ws.tend('up', '--detach')).code).toBe(0);
    const run = ws.follow('tasks', 'start', 'slow', '--wait');
    await run.see('first\n');
    // Still running: the second line is a second away.
    expect(run.child.exitCode).toBeNull();
    expect(await run.exited).toBe(0);
    expect(run.out()).toBe('first\nsecond\nslow: succeeded\n  slow: succeeded\n');
  });
});
