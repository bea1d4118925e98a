import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';

function capture(options: { level?: string; pretty?: boolean } = {}) {
  const destination = new PassThrough();
  const chunks: string[] = [];
  destination.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { log: createLogger({ ...options, destination }), text: () => chunks.join('') };
}

describe("the daemon's log", () => {
  it('writes pino-shaped JSON lines at and above its level, with the bindings of its children', () => {
    const { log, text } = capture({ level: 'info' });
    log.debug('not written');
    log.child({ component: 'engine' }).child({ service: 'web' }).info({ from: 'starting', to: 'running' }, 'Service phase changed');
    log.warn('plain message');
    const lines = text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 30, component: 'engine', service: 'web', from: 'starting', to: 'running', msg: 'Service phase changed' });
    expect(typeof lines[0]!.time).toBe('number');
    expect(lines[1]).toMatchObject({ level: 40, msg: 'plain message' });
  });

  it('writes an error as its type, message and stack; a record that is no JSON keeps its message', () => {
    const { log, text } = capture();
    log.error({ err: new TypeError('bad input') }, 'Request failed');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    log.error({ cycle }, 'Still said');
    const [first, second] = text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first!.err).toMatchObject({ type: 'TypeError', message: 'bad input' });
    expect(String((first!.err as { stack: string }).stack)).toContain('bad input');
    expect(second).toMatchObject({ level: 50, msg: 'Still said' });
    expect(String(second!.logError)).toContain('circular');
  });

  it('on a terminal, one short line a record; silent writes nothing', () => {
    const pretty = capture({ pretty: true });
    pretty.log.child({ service: 'web' }).info({ pid: 42 }, 'Service spawned');
    expect(pretty.text()).toMatch(/^\d\d:\d\d:\d\d INFO  Service spawned service=web pid=42\n$/);
    const silent = capture({ level: 'silent' });
    silent.log.fatal('nothing');
    expect(silent.text()).toBe('');
  });
});
