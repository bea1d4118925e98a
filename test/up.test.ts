import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findProcesses, sendSignal } from '../src/runtime/machine/proc.js';
import { CLI, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

const tags = new Map<string, string>();
const tagOf = (dir: string): string => tags.get(dir)!;

/** A workspace with `.gitpod/automations.yaml`; every process tend starts for it carries TEST_TAG. */
function workspace(lines: string[]) {
  const dir = tempDir();
  mkdirSync(join(dir, '.gitpod'));
  writeFileSync(join(dir, '.gitpod', 'automations.yaml'), `${lines.join('\n')}\n`);
  const tag = randomUUID();
  tags.set(dir, tag);
  const env = { TEST_TAG: tag };
  const tend = (...args: string[]) => runCli([...args, '--workspace', dir], { cwd: dir, env });
  onTestFinished(async () => {
    await runCli(['down', '--workspace', dir]);
    for (const ref of findProcesses([], 'TEST_TAG', tag)) sendSignal(ref.pid, 'SIGKILL');
  });
  return { dir, tend, left: () => findProcesses([], 'TEST_TAG', tag).length };
}

const GOOD = [
  'services:',
  '  web:',
  '    commands: {start: "echo serving; exec sleep 60", ready: "true"}',
  '    triggeredBy: [postDevcontainerStart]',
  'tasks:',
  '  install: {command: "echo installed", triggeredBy: [postEnvironmentStart]}',
  '  build: {command: "echo built", dependsOn: [install, web], triggeredBy: [postDevcontainerStart]}',
  '  seed: {command: "echo seeded", triggeredBy: [manual]}',
];

describe('tend up --detach, down, status, trigger', () => {
  it('returns 0 once services run and tasks succeeded; status, trigger and down work on the daemon it started', async () => {
    const { tend, left } = workspace(GOOD);
    const up = await tend('up', '--detach');
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('fired postEnvironmentStart, postDevcontainerStart: started 1 services and 2 tasks');
    expect(up.stdout).toContain('service web: running');
    expect(up.stdout).toContain('task build: succeeded');
    expect(left()).toBeGreaterThan(0);

    const status = await tend('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/automations file: .*automations\.yaml: ok/);
    expect(status.stdout).toContain('service web: running');

    const trigger = await tend('trigger', 'manual');
    expect(trigger.stdout).toBe('Fired manual: started 0 services and 1 tasks\n');
    const bad = await tend('trigger', 'manul');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown trigger "manul" (did you mean "manual"?)');

    // A second `up` attaches to the running daemon.
    const again = await tend('up', '--detach');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('attached to the running daemon');

    const down = await tend('down');
    expect(down.stdout).toMatch(/^Stopping the tend daemon \d+ and everything it runs\n$/);
    await waitFor(() => left() === 0, { what: 'every process to be gone' });
    expect((await tend('status')).code).toBe(1);
  });

  it('returns 1 and says why when a service fails or a task fails', async () => {
    const { tend } = workspace([
      'services:',
      '  web:',
      '    commands: {start: "echo port 3000 in use; exit 1", ready: "false"}',
      '    triggeredBy: [postEnvironmentStart]',
      'tasks:',
      '  lint: {command: "echo 2 problems; exit 3", triggeredBy: [postDevcontainerStart]}',
    ]);
    const up = await tend('up', '--detach');
    expect(up.code).toBe(1);
    expect(up.stdout).toContain('service web: failed');
    expect(up.stdout).toContain('port 3000 in use');
    expect(up.stdout).toContain('task lint: failed');
    expect(up.stdout).toContain('exited with code 3; last output:');
  });

  it('refuses to bring up an invalid file, printing every problem with line and column', async () => {
    const { tend, dir } = workspace(['services:', '  web:', '    comands: {start: x}', 'tasks:', '  t: {command: x, dependsOn: [nope]}']);
    const up = await tend('up', '--detach');
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`${join(dir, '.gitpod/automations.yaml')}:3:5: services.web.comands: Unknown field "comands" (did you mean "commands"?)`);
    expect(up.stderr).toContain(':5:31: tasks.t.dependsOn[0]: Unknown dependency "nope"');

    const validate = await runCli(['validate', join(dir, '.gitpod/automations.yaml')]);
    expect(validate.code).toBe(1);
    expect(validate.stdout.trim().split('\n')).toHaveLength(3);
    expect(validate.stderr).toContain('has 3 problems');
  });

  it('validate says a good file is valid', async () => {
    const { dir } = workspace(GOOD);
    const validate = await runCli(['validate', '--workspace', dir]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toBe(`${join(dir, '.gitpod/automations.yaml')} is valid: 1 service, 3 tasks\n`);
  });
});

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
    const ws = workspace([]);
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
    const ws = workspace([]);
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
    const { dir, left } = workspace(GOOD);
    const sub = join(dir, 'src', 'components');
    mkdirSync(sub, { recursive: true });
    const here = (...args: string[]) => runCli(args, { cwd: sub, env: { TEST_TAG: tagOf(dir) } });
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
    const { tend } = workspace([
      'services:',
      '  db:',
      '    commands:',
      '      start: "sleep 1.5; touch accepting; exec sleep 60"',
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
    const { dir } = workspace([
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

describe('tend prebuild', () => {
  const file = (requires: boolean) => [
    'tasks:',
    '  deps: {command: "echo deps > deps.txt", triggeredBy: [prebuild]}',
    `  compile: {command: "echo broken; exit 1", dependsOn: [deps], triggeredBy: [prebuild], prebuildRequiresSuccess: ${requires}}`,
    '  snapshot: {command: "echo snap > snap.txt", triggeredBy: [beforeSnapshot]}',
  ];

  it('fails when a task with prebuildRequiresSuccess did not succeed', async () => {
    const { tend, left } = workspace(file(true));
    const result = await tend('prebuild');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('task compile: failed');
    expect(result.stdout).toContain('task snapshot: succeeded');
    expect(result.stdout).toContain('prebuild failed: "compile" must succeed (prebuildRequiresSuccess)');
    expect(left()).toBe(0);
  });

  it('succeeds when the failing task does not require success, after running beforeSnapshot tasks', async () => {
    const { tend, dir } = workspace(file(false));
    const result = await tend('prebuild');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('task compile: failed');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'deps.txt'), 'utf8')).toBe('deps\n');
    expect(readFileSync(join(dir, 'snap.txt'), 'utf8')).toBe('snap\n');
  });
});
