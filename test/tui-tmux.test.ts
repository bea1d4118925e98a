/**
 * `tend up` in a real terminal (tmux): the TUI draws on the alternate screen, its keys act on
 * real processes, q stops everything and exits 0 with one line, Ctrl-C twice forces, closing the
 * terminal (SIGHUP) stops everything too, NO_COLOR is honoured, and `tend up --detach` on a
 * terminal redraws what it still waits for.
 */
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers/cli.js';
import { tendWorkspace } from './helpers/workspace.js';
import { tmuxAvailable, tmuxSession } from './helpers/tmux.js';
import { waitFor } from './helpers/wait.js';

function workspace(lines: string[]) {
  const ws = tendWorkspace(lines);
  const tend = (args: string[], env: Record<string, string> = {}, size: { columns?: number; rows?: number } = {}) =>
    tmuxSession({ command: [process.execPath, CLI, ...args, '--workspace', ws.dir], cwd: ws.dir, env: { TEST_TAG: ws.tag, ...env }, ...size });
  return { dir: ws.dir, tend, left: ws.left };
}

const FILE = [
  'services:',
  '  web:',
  '    commands:',
  '      start: \'echo "web up $$"; while :; do echo "web tick"; sleep 0.3; done\'',
  '      ready: "true"',
  '    triggeredBy: [postEnvironmentStart]',
  'tasks:',
  '  build: {command: "echo compiling; echo build ok", triggeredBy: [postEnvironmentStart]}',
  '  seed: {command: "echo seeding the database; echo seeded", triggeredBy: [manual]}',
];

const STUBBORN = [
  'services:',
  '  stubborn:',
  '    commands:',
  '      start: "trap \'\' TERM; echo holding on; while :; do sleep 0.1; done"',
  '    triggeredBy: [postEnvironmentStart]',
];

describe.skipIf(!tmuxAvailable())('tend up in a terminal', () => {
  it('draws every service and task with live output, acts on keys, and q stops everything: exit 0, one line', async () => {
    const ws = workspace(FILE);
    const term = ws.tend(['up'], {}, { columns: 110, rows: 30 });
    await term.waitFor(/▸ ● web +service +running +\d+/);
    await term.waitFor(/✔ build +task +succeeded/);
    await term.waitFor('web tick');
    expect(term.alternateScreen()).toBe(true);
    expect(term.screen({ colors: true })).toContain('\u001b[');

    // r: a new session, and its output goes on.
    term.keys('r');
    await term.waitFor(/── new session \d\d:\d\d:\d\d/);
    await term.waitFor(/── new session .*\n(.*\n)*web up \d+/);

    // Down to seed, run it with s, and see its output.
    term.keys('j');
    await term.waitFor(/▸ ✔ build/);
    term.keys('j');
    await term.waitFor(/▸ ○ seed/);
    term.keys('s');
    await term.waitFor(/▸ ✔ seed +task +succeeded/);
    await term.waitFor('seeding the database');

    // Search the output with /.
    term.keys('/');
    for (const key of 'database') term.keys(key);
    await term.waitFor('/database█');
    term.keys('Enter');
    await term.waitFor(/▶seeding the database/);

    term.keys('?');
    await term.waitFor('quit: stop everything by the stop rules');
    term.keys('Escape');
    await term.waitFor((screen) => !screen.includes('quit: stop everything by the stop rules'));

    term.resize(80, 20);
    await term.waitFor((screen) => screen.split('\n')[0]!.startsWith(' tend ') && /▸ ✔ seed/.test(screen));

    term.keys('q');
    expect(await term.waitExit()).toBe(0);
    expect(term.alternateScreen()).toBe(false);
    const history = term.screen({ history: true });
    expect(history).toContain('tend: stopped everything by the stop rules');
    expect(history).not.toMatch(/Error|at .*\.js:\d+/);
    expect(ws.left()).toBe(0);
  });

  it('Ctrl-C stops by the stop rules; a second Ctrl-C forces with SIGKILL, said on screen: exit 130', async () => {
    const ws = workspace(STUBBORN);
    const term = ws.tend(['up', '--stop-timeout', '1m']);
    await term.waitFor(/● stubborn +service +running/);
    term.keys('C-c');
    await term.waitFor('Stopping everything by the stop rules… (q or Ctrl-C again forces)');
    // It ignores SIGTERM: the stop would take the whole minute.
    expect(ws.left()).toBeGreaterThan(0);
    term.keys('C-c');
    const status = await term.waitExit();
    expect(status, term.screen({ history: true })).toBe(130);
    expect(term.screen({ history: true })).toMatch(/tend: forcing: SIGKILL to the \d+ process(es)? left \(pid [\d, ]+\)/);
    expect(ws.left()).toBe(0);
  });

  it('closing the terminal (SIGHUP) stops everything as Ctrl-C does', async () => {
    const ws = workspace(FILE);
    const term = ws.tend(['up']);
    await term.waitFor(/● web +service +running/);
    expect(ws.left()).toBeGreaterThan(0);
    term.close();
    await waitFor(() => ws.left() === 0, { what: 'every process to be gone after SIGHUP', timeoutMs: 15_000 });
    expect((await runCli(['status', '--workspace', ws.dir])).stderr).toContain('No tend daemon is running');
  });

  it('honours NO_COLOR: no colour at all, the selection still marked', async () => {
    const ws = workspace(FILE);
    const term = ws.tend(['up'], { NO_COLOR: '1' });
    await term.waitFor(/▸ ● web +service +running/);
    expect(term.screen({ colors: true })).not.toContain('\u001b[');
    term.keys('q');
    expect(await term.waitExit()).toBe(0);
  });

  it('tend up --detach on a terminal redraws what it still waits for, then reports', async () => {
    const ws = workspace([
      'services:',
      '  db:',
      '    commands:',
      '      start: "sleep 1.5; touch accepting; exec sleep 60"',
      '      ready: "test -f accepting || { echo \'db: no response\'; exit 2; }"',
      '    triggeredBy: [postEnvironmentStart]',
    ]);
    const term = ws.tend(['up', '--detach'], {}, { columns: 200, rows: 20 });
    await term.waitFor(/tend: waiting: service db: starting for \d+s; ready command "test -f accepting .*": \d+ probes? so far, the last exited 2: db: no response/);
    expect(await term.waitExit()).toBe(0);
    const history = term.screen({ history: true });
    expect(history).toContain('service db: running');
    // The block of what it waited for is gone once it is done.
    expect(history).not.toContain('tend: waiting:');
  });
});
