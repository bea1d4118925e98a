/**
 * The daemon's own log: pino, one JSON object a line; on a terminal, a short human line instead
 * (`12:00:01 INFO  Service phase changed service=web from=starting to=running`).
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function humanLine(json: string): string {
  try {
    const record = JSON.parse(json) as Record<string, unknown>;
    const time = new Date(Number(record.time)).toISOString().slice(11, 19);
    const level = (LEVELS[Number(record.level)] ?? 'INFO').padEnd(5);
    const fields = Object.entries(record)
      .filter(([key]) => !SKIP.has(key))
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `${time} ${level} ${String(record.msg ?? '')}${fields === '' ? '' : ` ${fields}`}\n`;
  } catch {
    return json;
  }
}

export function createLogger(options: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const destination = options.destination ?? process.stdout;
  const level = options.level ?? process.env.TEND_LOG_LEVEL ?? 'info';
  if (!(options.pretty ?? (destination as { isTTY?: boolean }).isTTY === true)) {
    return pino({ level, base: undefined }, destination);
  }
  const human = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      destination.write(text.split('\n').filter(Boolean).map(humanLine).join(''));
      done();
    },
  });
  return pino({ level, base: undefined }, human);
}
