/**
 * The pure parts of the CLI's output: decoding lines across reads, a log's items and headers,
 * one-line failure reasons, tables with multi-line cells, text widths and cuts, prefixes.
 */
import { describe, expect, it } from 'vitest';
import { LineDecoder } from '../../src/client/line-decoder.js';
import { formatSeconds, LogItemParser, sectionHeader, type LogItem } from '../../src/client/log-items.js';
import { lastLines, SectionCompactor } from '../../src/client/output-follower.js';
import { summarizeFailure } from '../../src/cli/failure-reason.js';
import { Prefixes, fixedStyles } from '../../src/cli/styles.js';
import { formatTable } from '../../src/cli/table.js';
import { displayWidth, fitWidth, screenSafe, stripAnsi } from '../../src/cli/terminal-text.js';
import { resourceRows } from '../../src/cli/resource-rows.js';
import type { Service, Task, TaskExecution } from '../../src/domain/schema.js';

describe('LineDecoder', () => {
  it('keeps every multi-byte character whole wherever the reads split it', () => {
    const text = 'héllo 世界 🎉 ok\nzweite Zeile ü\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      for (let second = cut + 1; second <= bytes.length; second += 3) {
        const decoder = new LineDecoder();
        const lines = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut, second)), ...decoder.push(bytes.subarray(second)), ...decoder.end()];
        expect(lines).toEqual(['héllo 世界 🎉 ok', 'zweite Zeile ü']);
      }
    }
  });

  it('gives a last line without a newline at the end, and one byte at a time works too', () => {
    const decoder = new LineDecoder();
    const lines: string[] = [];
    for (const byte of Buffer.from('a\n世\nlast')) lines.push(...decoder.push(Uint8Array.of(byte)));
    expect(lines).toEqual(['a', '世']);
    expect(decoder.end()).toEqual(['last']);
  });
});

describe('log items', () => {
  const log = [
    '[section-create] {"id":"t1","title":"install"}',
    'resolving',
    'installed 3 packages',
    '[section-end] {"id":"t1","outcome":"success","secondsElapsed":1.234}',
    '[section-create] {"id":"t2","title":"build"}',
    'compiling',
    '[section-end] {"id":"t2","outcome":"failure","secondsElapsed":75}',
  ];

  it('turns the framing into section starts and ends, and headers people read', () => {
    const parser = new LogItemParser();
    const items = log.map((line) => parser.parse(line));
    expect(items[1]).toEqual({ kind: 'line', text: 'resolving', section: 'install' });
    expect(items.filter((item) => item.kind !== 'line').map((item) => sectionHeader(item as Exclude<LogItem, { kind: 'line' }>))).toEqual([
      '── install',
      '── install (succeeded, 1.2 s)',
      '── build',
      '── build (failed, 1 min 15 s)',
    ]);
    expect(formatSeconds(0.04)).toBe('0.0 s');
    expect(formatSeconds(42.4)).toBe('42 s');
  });

  it('a line that only looks like framing stays a line', () => {
    const parser = new LogItemParser();
    expect(parser.parse('[section-create] not json')).toEqual({ kind: 'line', text: '[section-create] not json', section: null });
    expect(parser.parse('[section-end] {"no":"id"}').kind).toBe('line');
  });

  it('the last lines of a log keep the header of the section they are in', () => {
    const parser = new LogItemParser();
    const items = log.map((line) => parser.parse(line));
    expect(lastLines(items, 2).map((item) => (item.kind === 'line' ? item.text : item.kind))).toEqual([
      'section-start',
      'installed 3 packages',
      'section-end',
      'section-start',
      'compiling',
      'section-end',
    ]);
    expect(lastLines(items, 0)).toEqual([]);
  });

  it('a view of several logs leaves out empty sections and those whose output another followed log holds', () => {
    const parser = new LogItemParser();
    const items = [
      '[section-create] {"id":"s","title":"api"}',
      '[section-end] {"id":"s","outcome":"success","secondsElapsed":0.5}',
      '[section-create] {"id":"t1","title":"install"}',
      '[tend] "install" runs once for this trigger: its output is in execution e-1',
      '[section-end] {"id":"t1","outcome":"success","secondsElapsed":0.3}',
      '[section-create] {"id":"t3","title":"lint"}',
      '[tend] "lint" runs once for this trigger: its output is in execution e-other',
      '[section-end] {"id":"t3","outcome":"success","secondsElapsed":0.3}',
      '[section-create] {"id":"t2","title":"build"}',
      'build ok',
      '[section-end] {"id":"t2","outcome":"success","secondsElapsed":0.2}',
    ].map((line) => parser.parse(line));
    const compactor = new SectionCompactor((id) => id === 'e-1');
    const kept = items.flatMap((item) => compactor.push(item)).map((item) => (item.kind === 'line' ? item.text : sectionHeader(item)));
    expect(kept).toEqual([
      '── lint',
      '[tend] "lint" runs once for this trigger: its output is in execution e-other',
      '── lint (succeeded, 0.3 s)',
      '── build',
      'build ok',
      '── build (succeeded, 0.2 s)',
    ]);
  });
});

describe('one-line reasons', () => {
  it('an exit of a multi-line command is its exit and its last output line, never the command cut at a newline', () => {
    const message = 'Service "web": start command "echo starting\nexec ./server --config x" exited with code 3; last output:\nstarting\nfatal: config missing\n';
    expect(summarizeFailure(message)).toEqual({ exitCode: 3, signal: null, line: 'exit 3: fatal: config missing' });
    expect(summarizeFailure('Task "x": command "a\nb" was killed by signal SIGKILL')?.line).toBe('killed by SIGKILL');
    expect(summarizeFailure('Service "db": ready command "pg_isready\n-h x" did not pass within 30s\nlast probe: exit 2')?.line).toBe(
      'Service "db": ready command "pg_isready ⏎ -h x" did not pass within 30s ⏎ last probe: exit 2',
    );
    expect(summarizeFailure(undefined)).toBeNull();
    // Node's uncaught error: the error line, not the stack, the error's fields or Node's version.
    const node = [
      "node:events:497",
      "      throw er; // Unhandled 'error' event",
      '      ^',
      '',
      'Error: listen EADDRINUSE: address already in use 127.0.0.1:8787',
      '    at Server.setupListenHandle [as _listen2] (node:net:1908:16)',
      "Emitted 'error' event on Server instance at:",
      '    at emitErrorNT (node:net:1944:8) {',
      "  code: 'EADDRINUSE',",
      '  errno: -98,',
      '  port: 8787',
      '}',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    const crash = `Service "api": start command "PORT=8787 node server.js" exited with code 1; last output:\n${node}`;
    expect(summarizeFailure(crash)?.line).toBe('exit 1: Error: listen EADDRINUSE: address already in use 127.0.0.1:8787');
    // Who holds the port leads, when the daemon found out.
    expect(summarizeFailure(`Port 8787 is held by pid 812 (node server.js), not by service "api": ${crash}`)?.line).toBe(
      'exit 1: Port 8787 is held by pid 812 (node server.js), not by service "api"',
    );
    // A plain last line is kept as it is.
    expect(summarizeFailure('Task "t": command "x" exited with code 2; last output:\nstarting\nwaiting for db')?.line).toBe('exit 2: waiting for db');
  });
});

describe('tables', () => {
  it('keep every cell on one line and stay within the terminal by shortening one column', () => {
    const table = formatTable(
      ['NAME', 'COMMAND', 'NOTE'],
      [
        ['a-very-long-service-name-indeed', 'npm ci\nnpm run dev -- --port 3000', 'x'],
        ['web', 'node server.js', ''],
      ],
      { maxWidth: 60, shrink: 1 },
    );
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => displayWidth(line) <= 60)).toBe(true);
    expect(lines[1]).toBe('a-very-long-service-name-indeed  npm ci ⏎ npm run dev…  x');
    // The columns after the shortened one still line up.
    expect(lines[1]!.lastIndexOf('x')).toBe(lines[0]!.indexOf('NOTE'));
  });
});

describe('terminal text', () => {
  it('counts wide characters as two columns, combining marks and colours as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('世界')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('\u001b[31mred\u001b[0m')).toBe(3);
  });

  it('cuts to an exact width without splitting a character, keeps colours and ends them', () => {
    expect(fitWidth('世界世界', 5)).toBe('世界 ');
    expect(fitWidth('hello world', 8, { ellipsis: true })).toBe('hello w…');
    const cut = fitWidth('\u001b[32mgreen text\u001b[0m', 5);
    expect(stripAnsi(cut)).toBe('green');
    expect(cut.endsWith('\u001b[0m')).toBe(true);
    expect(fitWidth('ab', 4)).toBe('ab  ');
  });

  it('keeps only colours of a command\'s output: no cursor moves, titles or control characters', () => {
    expect(screenSafe('\u001b[2J\u001b[Hcleared')).toBe('cleared');
    expect(screenSafe('\u001b]0;title\u0007text')).toBe('text');
    expect(screenSafe('50%\r100%')).toBe('100%');
    expect(screenSafe('a\tb')).toBe('a       b');
    expect(screenSafe('\u001b[1;31mbold red\u001b[0m\u0007')).toBe('\u001b[1;31mbold red\u001b[0m');
  });
});

describe('prefixes', () => {
  it('are as wide as the longest name, at most 20 columns: longer names are cut so every | aligns', () => {
    const prefixes = new Prefixes(fixedStyles(false), ['tend', 'web', 'a-name-much-longer-than-twenty']);
    expect(prefixes.prefix('web')).toBe('web                  | ');
    expect(prefixes.prefix('a-name-much-longer-than-twenty')).toBe('a-name-much-longer-… | ');
    expect(new Prefixes(fixedStyles(false), ['db']).prefix('db')).toBe('db   | ');
    expect(new Prefixes(fixedStyles(true), ['db']).prefix('db')).toMatch(/^\u001b\[\d+mdb {3}\| \u001b\[39m$/);
  });
});

describe('resource rows', () => {
  const service = (id: string, phase: string, extra: Partial<Service['status']> = {}): Service => ({
    id,
    environmentId: 'env',
    metadata: { reference: id },
    spec: { commands: { start: 'x' } },
    status: { phase: phase as Service['status']['phase'], ...extra },
  });

  it('give pid and uptime from GetStatus, ports by service, a one-line reason and dependency references', () => {
    const now = Date.parse('2026-12-01T10:05:00Z');
    const task: Task = { id: 'build', environmentId: 'env', dependsOn: ['install-id', 'web'], metadata: { reference: 'build' }, spec: { command: 'make' } };
    const install: Task = { id: 'install-id', environmentId: 'env', dependsOn: [], metadata: { reference: 'install' }, spec: { command: 'npm ci' } };
    const execution = {
      id: 'e1',
      metadata: { createdAt: '2026-12-01T10:00:00Z', environmentId: 'env', startedBy: 'manual', taskId: 'build', startedAt: '2026-12-01T10:00:00Z', completedAt: '2026-12-01T10:00:01.250Z' },
      spec: { plan: [] },
      status: { phase: 'TASK_EXECUTION_PHASE_FAILED', statusVersion: '1', steps: [], failureMessage: 'Task "build": command "make\nmake test" exited with code 2; last output:\nerror: no rule' },
    } as unknown as TaskExecution;
    const rows = resourceRows({
      services: [service('web', 'SERVICE_PHASE_RUNNING'), service('db', 'SERVICE_PHASE_FAILED', { failureMessage: 'Service "db": start command "x" exited with code 3; last output:\nfatal: config missing' })],
      tasks: [task, install],
      latestExecution: (id) => (id === 'build' ? execution : undefined),
      status: { automationsFile: null, processes: [{ serviceId: 'web', pid: 4242, startedAt: '2026-12-01T10:02:55Z' }] },
      ports: [{ port: 3000, serviceId: 'web', found: true, recorded: false }, { port: 80, openedBy: { runId: null, serviceId: 'web', service: 'web' } }],
      now,
    });
    expect(rows.map((row) => [row.kind, row.name, row.phase, row.pid, row.uptime, row.ports.join(','), row.exitCode, row.reason])).toEqual([
      ['service', 'web', 'running', 4242, '2m05s', '80,3000', null, ''],
      ['service', 'db', 'failed', null, '', '', 3, 'exit 3: fatal: config missing'],
      ['task', 'build', 'failed', null, '1.3s', '', 2, 'exit 2: error: no rule'],
      ['task', 'install', '-', null, '', '', null, ''],
    ]);
    expect(rows[2]!.dependsOn).toEqual(['install', 'web']);
  });
});
