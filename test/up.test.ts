import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { tendWorkspace } from './helpers/workspace.js';
import { waitFor } from './helpers/wait.js';


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
    const { tend, left } = tendWorkspace(GOOD);
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
    expect(status.stdout).toMatch(/\nservice +web +running +\d+ +\d+s/);

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
    const { tend } = tendWorkspace([
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
    const { tend, dir } = tendWorkspace(['services:', '  web:', '    comands: {start: x}', 'tasks:', '  t: {command: x, dependsOn: [nope]}']);
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
    const { dir } = tendWorkspace(GOOD);
    const validate = await runCli(['validate', '--workspace', dir]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toBe(`${join(dir, '.gitpod/automations.yaml')} is valid: 1 service, 3 tasks\n`);
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
    const { tend, left } = tendWorkspace(file(true));
    const result = await tend('prebuild');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('task compile: failed');
    expect(result.stdout).toContain('task snapshot: succeeded');
    expect(result.stdout).toContain('prebuild failed: "compile" must succeed (prebuildRequiresSuccess)');
    expect(left()).toBe(0);
  });

  it('succeeds when the failing task does not require success, after running beforeSnapshot tasks', async () => {
    const { tend, dir } = tendWorkspace(file(false));
    const result = await tend('prebuild');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('task compile: failed');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'deps.txt'), 'utf8')).toBe('deps\n');
    expect(readFileSync(join(dir, 'snap.txt'), 'utf8')).toBe('snap\n');
  });
});
