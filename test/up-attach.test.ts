/**
 * `tend up` on a running daemon (it attaches), every command from a subdirectory of the
 * workspace, the waiting line of `tend up --detach`, and `tend validate`'s warnings.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, runCli } from './helpers/cli.js';
import { tendWorkspace } from './helpers/workspace.js';
import { waitFor } from './helpers/wait.js';


const GOOD = [
  'services:',
  '  web:',
  '    commands: {start: "echo serving; exec sleep 60", ready: "true"}',
  '    triggeredBy: [postDevcontainerStart]',
  'tasks:',
  '  install: {command: "echo installed", triggeredBy: [postEnvironmentStart]}',
  '  seed: {command: "echo seeded", triggeredBy: [manual]}',
];

describe('a second tend up attaches', () => {
  const SEEDING = (dir: string) => [
    'services:',
    '  web:',
    '    commands: {start: "echo web session starts; while :; do echo tick; sleep 0.1; done"}',
    '    triggeredBy: [postDevcontainerStart]',
    'tasks:',
    `  seed: {command: "echo row >> ${dir}/rows.txt; echo seeded", triggeredBy: [postEnvironmentStart]}`,
  ];

  it('fires no start trigger again (a seeding task runs once), does not claim to start what runs; --retrigger fires them', async () => {
    const ws = tendWorkspace([]);
    writeFileSync(join(ws.dir, '.gitpod', 'automations.yaml'), `${SEEDING(ws.dir).join('\n')}\n`);
    const first = await ws.tend('up', '--detach');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('started 1 services and 1 tasks');
    const second = await ws.tend('up', '--detach');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^tend: attached to the running daemon at http:\/\/127\.0\.0\.1:\d+ \(state in .*\): its start triggers already fired, so nothing is started again \(`tend up --retrigger` fires them again\); 1 service, 1 task\n/);
    expect(second.stdout).not.toMatch(/started \d/);
    expect(second.stdout).toContain('service web: running\ntask seed: succeeded\n');
    expect(readFileSync(join(ws.dir, 'rows.txt'), 'utf8')).toBe('row\n');

    const retriggered = await ws.tend('up', '--detach', '--retrigger');
    expect(retriggered.code).toBe(0);
    expect(retriggered.stdout).toContain('fired postEnvironmentStart, postDevcontainerStart: started 0 services and 1 tasks (1 service already running)');
    expect(readFileSync(join(ws.dir, 'rows.txt'), 'utf8')).toBe('row\nrow\n');
  });

  it('in the foreground shows new output only, not what earlier sessions printed', async () => {
    const ws = tendWorkspace([]);
    writeFileSync(join(ws.dir, '.gitpod', 'automations.yaml'), `${SEEDING(ws.dir).join('\n')}\n`);
    expect((await ws.tend('up', '--detach')).code).toBe(0);
    const child = spawn(process.execPath, [CLI, 'up', '--workspace', ws.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.split('\n').filter((line) => /^web +\| tick$/.test(line)).length >= 3, { what: 'new ticks of web' });
    expect(out).toContain('attached to the running daemon');
    expect(out).not.toContain('web session starts');
    expect(out).not.toContain('seeded');
    expect(out).toMatch(/tend +\| service web: running\n/);
  });
});

describe('from a subdirectory of the workspace', () => {
  it('every command finds the workspace: up uses its file, status and trigger talk to its daemon, down stops it', async () => {
    const { dir, tag, left } = tendWorkspace(GOOD);
    const sub = join(dir, 'src', 'components');
    mkdirSync(sub, { recursive: true });
    const here = (...args: string[]) => runCli(args, { cwd: sub, env: { TEST_TAG: tag } });
    const up = await here('up', '--detach');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`(state in ${join(dir, '.tend')})`);
    expect(existsSync(join(sub, '.tend'))).toBe(false);
    const status = await here('status');
    expect(status.stdout).toContain(`automations file: ${join(dir, '.gitpod/automations.yaml')}: ok`);
    expect((await here('trigger', 'manual')).code).toBe(0);
    expect((await here('services', 'list')).stdout).toContain('web');
    expect((await here('validate')).stdout).toContain(`${join(dir, '.gitpod/automations.yaml')} is valid`);
    const down = await here('down');
    expect(down.stdout).toMatch(/^Stopping the tend daemon \d+/);
    await waitFor(() => left() === 0, { what: 'every process to be gone' });
  });
});

describe('tend up --detach while a service waits for its ready command', () => {
  it('says what it waits for and what the last probe printed', async () => {
    const { tend } = tendWorkspace([
      'services:',
      '  db:',
      '    commands:',
      '      start: "sleep 0.8; touch accepting; exec sleep 60"',
      '      ready: "test -f accepting || { echo \'db: no response\'; exit 2; }"',
      '    triggeredBy: [postEnvironmentStart]',
    ]);
    const up = await tend('up', '--detach');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/tend: service db: waiting for ready command "test -f accepting .*" since \d+s \(no readiness timeout\); \d+ probes? so far, the last exited 2: db: no response\n/);
    expect(up.stdout).toContain('service db: running\n');
  });
});

describe('tend validate warnings', () => {
  it('prints what will surprise at run time and exits 0', async () => {
    const { dir } = tendWorkspace([
      'services:',
      '  db:',
      '    commands: {start: postgres, ready: "sleep 15 && pg_isready"}',
      '    readinessTimeout: 10s',
      '    triggeredBy: [postEnvironmentStart]',
      'tasks:',
      '  lint: {command: npm run lint}',
    ]);
    const file = join(dir, '.gitpod/automations.yaml');
    const validate = await runCli(['validate', '--workspace', dir]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toBe(
      `${file}:3:40: services.db.commands.ready: warning: The ready command of service "db" sleeps 15s, longer than its readinessTimeout "10s": it can never pass (raise readinessTimeout, or shorten the sleep)\n` +
        `${file}:7:3: tasks.lint: warning: Nothing starts task "lint": it has no triggeredBy and no task depends on it (add triggeredBy: [postDevcontainerStart], or run \`tend tasks start lint\`)\n` +
        `${file} is valid: 1 service, 1 task (2 warnings)\n`,
    );
  });
});
