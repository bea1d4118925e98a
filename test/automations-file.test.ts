import { describe, expect, it } from 'vitest';
import { serviceFromFile, taskFromFile, toAutomationsFile } from '../src/config/convert.js';
import { automationsJsonSchema } from '../src/config/json-schema.js';
import { parseAutomations } from '../src/config/load-file.js';
import { formatProblem, InvalidAutomationsFile } from '../src/config/problem.js';
import type { Service, Task } from '../src/domain/schema.js';

/** The problems of a file as `line:column: path: message` lines. */
function problems(text: string): string[] {
  try {
    parseAutomations(text, 'f.yaml');
  } catch (error) {
    if (error instanceof InvalidAutomationsFile) return error.problems.map((problem) => formatProblem('f.yaml', problem).slice('f.yaml:'.length));
    throw error;
  }
  return [];
}

const yaml = (lines: string[]): string => `${lines.join('\n')}\n`;

describe('automations file: one rule, one problem, with line and column', () => {
  it('unknown field, with a did-you-mean', () => {
    expect(problems(yaml(['services:', '  web:', '    comands:', '      start: x']))).toEqual([
      '2:3: services.web: Service "web" needs a non-empty commands.start',
      '3:5: services.web.comands: Unknown field "comands" (did you mean "commands"?)',
    ]);
    expect(problems(yaml(['tasks:', '  build:', '    command: x', '    dependOn: [a]']))).toEqual([
      '4:5: tasks.build.dependOn: Unknown field "dependOn" (did you mean "dependsOn"?)',
    ]);
    expect(problems(yaml(['service:', '  web: {}']))).toEqual(['1:1: service: Unknown field "service" (did you mean "services"?)']);
  });

  it('unknown trigger, with a did-you-mean, and beforeSnapshot on a service', () => {
    expect(problems(yaml(['services:', '  web:', '    commands: {start: x}', '    triggeredBy: [postDevcontainerStrat, beforeSnapshot]']))).toEqual([
      '4:19: services.web.triggeredBy[0]: Unknown trigger "postDevcontainerStrat" (did you mean "postDevcontainerStart"?); use one of "manual", "postMachineStart", "postEnvironmentStart", "postDevcontainerStart", "prebuild"',
      '4:42: services.web.triggeredBy[1]: Trigger "beforeSnapshot" is for tasks only: a service cannot run before a snapshot',
    ]);
    expect(problems(yaml(['tasks:', '  t:', '    command: x', '    triggeredBy: [beforeSnapshot, Manual]']))).toEqual([
      '4:35: tasks.t.triggeredBy[1]: Unknown trigger "Manual" (did you mean "manual"?); use one of "manual", "postMachineStart", "postEnvironmentStart", "postDevcontainerStart", "prebuild", "beforeSnapshot"',
    ]);
  });

  it('wrong types', () => {
    expect(problems(yaml(['tasks:', '  t:', '    command: 42', '    dependsOn: build']))).toEqual([
      '3:14: tasks.t.command: Expected a string, got number 42',
      '4:16: tasks.t.dependsOn: Expected a list, got string "build"',
    ]);
    expect(problems(yaml(['- a', '- b']))).toEqual(['1:1: Expected a mapping, got a list']);
  });

  it('keys outside ^[a-zA-Z0-9_-]{1,128}$', () => {
    expect(problems(yaml(['services:', '  "my web":', '    commands: {start: x}']))).toEqual([
      '2:3: services.my web: Invalid key "my web": use 1 to 128 letters, digits, "_" or "-"',
    ]);
  });

  it('empty start command and empty task command', () => {
    expect(problems(yaml(['services:', '  web:', '    commands:', '      start: "  "', 'tasks:', '  t:', '    command: ""']))).toEqual([
      '4:14: services.web.commands.start: Service "web" needs a non-empty commands.start',
      '7:14: tasks.t.command: Task "t" needs a non-empty command',
    ]);
  });

  it('unknown dependsOn references, with a did-you-mean', () => {
    expect(problems(yaml(['tasks:', '  install: {command: x}', '  build:', '    command: x', '    dependsOn: [instal]']))).toEqual([
      '5:17: tasks.build.dependsOn[0]: Unknown dependency "instal": no task or service has this key (did you mean "install"?)',
    ]);
  });

  it('dependency cycles, named', () => {
    expect(problems(yaml(['tasks:', '  a: {command: x, dependsOn: [b]}', '  b: {command: x, dependsOn: [c]}', '  c: {command: x, dependsOn: [a]}']))).toEqual([
      '2:31: tasks.a.dependsOn[0]: Dependency cycle: "a" → "b" → "c" → "a"',
    ]);
  });

  it('duplicate keys', () => {
    expect(problems(yaml(['services:', '  web:', '    commands: {start: x}', '  web:', '    commands: {start: y}']))).toEqual([
      '4:3: Duplicate key: each key may appear only once in a mapping',
    ]);
  });

  it('bad durations and roles', () => {
    expect(problems(yaml(['services:', '  web:', '    commands: {start: x}', '    readinessTimeout: 5 minutes', '    role: ai_agent']))).toEqual([
      '4:23: services.web.readinessTimeout: Invalid duration "5 minutes": use a number with a unit, such as "30s", "2m" or "1m30s"',
      '5:11: services.web.role: Unknown role "ai_agent" (did you mean "ai-agent"?); use one of "", "default", "editor", "ai-agent", "security-agent"',
    ]);
  });

  it('syntax errors, at their position', () => {
    expect(problems(yaml(['services:', '  web:', '    commands:', '      start: echo "a: b" : c']))).toEqual([
      '4:14: Nested mappings are not allowed in compact mappings',
      '4:23: Nested mappings are not allowed in compact mappings',
    ]);
  });

  it('reports several problems together, in file order', () => {
    const found = problems(
      yaml(['services:', '  web:', '    comands: {}', '    readinessTimeout: soon', 'tasks:', '  t:', '    command: x', '    dependsOn: [nope]', '    triggeredBy: [never]']),
    );
    expect(found.map((line) => line.split(':').slice(0, 2).join(':'))).toEqual(['2:3', '3:5', '4:23', '8:17', '9:19']);
  });

  it('refuses hostile input quickly with a clear message', () => {
    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
    for (let index = 0; index < 12; index++) {
      bomb += `b${index}: &b${index} [${Array(9).fill(`*${index === 0 ? 'a' : `b${index - 1}`}`).join(',')}]\n`;
    }
    expect(problems(bomb)).toEqual(['1:1: Cannot read the file: Excessive alias count indicates a resource exhaustion attack']);
    expect(problems(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toEqual(['1:65: Nesting deeper than 64 levels: this is not an automations file']);
    expect(problems(`services: {}\n# ${'x'.repeat(1024 * 1024)}\n`)).toEqual(['1:1: The file is larger than 1048576 bytes']);
  });

  it('accepts a valid file', () => {
    const { file, hash } = parseAutomations(
      yaml([
        'services:',
        '  db:',
        '    commands: {start: postgres, ready: pg_isready}',
        '    role: ai-agent',
        '    triggeredBy: [postDevcontainerStart]',
        '    readinessTimeout: 1m30s',
        'tasks:',
        '  migrate:',
        '    command: npm run migrate',
        '    dependsOn: [db]',
        '    triggeredBy: [postEnvironmentStart, prebuild]',
        '    prebuildRequiresSuccess: true',
      ]),
      'f.yaml',
    );
    expect(file.services?.db?.readinessTimeout).toBe('1m30s');
    expect(file.tasks?.migrate?.dependsOn).toEqual(['db']);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an empty file (no bytes, whitespace, comments, a bare null) is a problem that says how to remove everything on purpose', () => {
    const empty = ['1:1: The file is empty (no services, no tasks): to remove every service and task on purpose, write "services: {}"'];
    for (const text of ['', '\n  \n', '# nothing yet\n# later\n', '---\n', '~\n']) expect(problems(text)).toEqual(empty);
    expect(parseAutomations('services: {}\n', 'f.yaml').file).toEqual({ services: {} });
    expect(parseAutomations('{}\n', 'f.yaml').file).toEqual({});
  });
});

describe('automations file warnings (valid, but surprising at run time)', () => {
  const warnings = (text: string): string[] => parseAutomations(text, 'f.yaml').warnings.map((warning) => formatProblem('f.yaml', warning).slice('f.yaml:'.length));

  it('a service or task that no trigger starts and nothing depends on', () => {
    expect(
      warnings(
        yaml([
          'services:',
          '  db: {commands: {start: postgres}}',
          '  cache: {commands: {start: redis-server}}',
          '  web: {commands: {start: npm start}, triggeredBy: [manual]}',
          'tasks:',
          '  migrate: {command: npm run migrate, dependsOn: [db]}',
          '  seed: {command: npm run seed, dependsOn: [migrate], triggeredBy: [postEnvironmentStart]}',
          '  lint: {command: npm run lint}',
          '  fixtures: {command: load-fixtures}',
          '  setup: {command: "gitpod automations task start fixtures", triggeredBy: [manual]}',
        ]),
      ),
    ).toEqual([
      '3:3: services.cache: Nothing starts service "cache": it has no triggeredBy and no task depends on it (add triggeredBy: [postDevcontainerStart], or run `tend services start cache`)',
      '8:3: tasks.lint: Nothing starts task "lint": it has no triggeredBy and no task depends on it (add triggeredBy: [postDevcontainerStart], or run `tend tasks start lint`)',
    ]);
  });

  it('a ready command whose sleep is longer than its readiness timeout', () => {
    const file = (ready: string, timeout: string) =>
      yaml(['services:', '  db:', `    commands: {start: postgres, ready: "${ready}"}`, `    readinessTimeout: ${timeout}`, '    triggeredBy: [postEnvironmentStart]']);
    expect(warnings(file('sleep 15 && pg_isready', '10s'))).toEqual([
      '3:40: services.db.commands.ready: The ready command of service "db" sleeps 15s, longer than its readinessTimeout "10s": it can never pass (raise readinessTimeout, or shorten the sleep)',
    ]);
    expect(warnings(file('sleep 2m; pg_isready', '1m30s'))[0]).toContain('sleeps 120s, longer than its readinessTimeout "1m30s"');
    expect(warnings(file('sleep 15 && pg_isready', '20s'))).toEqual([]);
    expect(warnings(file('sleep 15 && pg_isready', '0s'))).toEqual([]);
    expect(warnings(file('pg_isready --sleepy 99', '1s'))).toEqual([]);
  });
});

describe('file ↔ API conversion', () => {
  it('converts roles, triggers and dependencies both ways', () => {
    const service = serviceFromFile('db', { commands: { start: 'x' }, role: 'ai-agent', triggeredBy: ['postDevcontainerStart', 'manual'] });
    expect(service.metadata).toEqual({
      reference: 'db',
      name: 'db',
      role: 'SERVICE_ROLE_AI_AGENT',
      triggeredBy: [{ postDevcontainerStart: true }, { manual: true }],
    });
    const task = taskFromFile('migrate', { command: 'm', dependsOn: ['db'], triggeredBy: ['beforeSnapshot'], prebuildRequiresSuccess: true });
    expect(task.metadata.triggeredBy).toEqual([{ beforeSnapshot: true }]);
    expect(task.spec).toEqual({ command: 'm', prebuildRequiresSuccess: true });

    const services: Service[] = [{ id: 's1', environmentId: 'e', metadata: service.metadata, spec: service.spec, status: {} }];
    const tasks: Task[] = [{ id: 't1', environmentId: 'e', metadata: task.metadata, spec: task.spec, dependsOn: ['s1'] }];
    expect(toAutomationsFile(services, tasks)).toEqual({
      services: { db: { name: 'db', commands: { start: 'x' }, role: 'ai-agent', triggeredBy: ['postDevcontainerStart', 'manual'] } },
      tasks: { migrate: { name: 'migrate', command: 'm', dependsOn: ['db'], triggeredBy: ['beforeSnapshot'], prebuildRequiresSuccess: true } },
    });
  });

  it('exports a JSON Schema that refuses unknown fields', () => {
    const schema = automationsJsonSchema() as any;
    expect(Object.keys(schema.properties)).toEqual(['services', 'tasks']);
    expect(schema.additionalProperties).toBe(false);
    const service = schema.properties.services.additionalProperties;
    expect(service.additionalProperties).toBe(false);
    expect(service.properties.triggeredBy.items.enum).toContain('postDevcontainerStart');
    expect(service.properties.triggeredBy.items.enum).not.toContain('beforeSnapshot');
  });
});
