/**
 * The daemon's own log: one JSON object a line; on a terminal, a short human line instead
 * (`12:00:01 INFO  Service phase changed service=web from=starting to=running`).
 *
 * tend's own logger (`domain/logger.ts`), not pino: the daemon logs a few lines a minute, and pino
 * with what it loads cost about 9 MiB of the idle daemon's memory (bench/RESULTS.md, W3).
 */
import { LEVEL_NAMES, Logger, type Fields } from '../domain/logger.js';
import { utcTime } from '../domain/utc-time.js';

export { Logger };

const SKIP = new Set(['level', 'time', 'msg']);

/** A record as JSON; one that cannot be (a cycle, a BigInt) keeps its message and says why. */
function jsonLine(record: Fields): string {
  try {
    return `${JSON.stringify(record)}\n`;
  } catch (error) {
    return `${JSON.stringify({ level: record.level, time: record.time, msg: record.msg, logError: String(error) })}\n`;
  }
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function humanLine(record: Fields): string {
  const time = utcTime(Number(record.time)).slice(11, 19);
  const level = (LEVEL_NAMES[Number(record.level)] ?? 'INFO').padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !SKIP.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(' ');
  return `${time} ${level} ${String(record.msg ?? '')}${fields === '' ? '' : ` ${fields}`}\n`;
}

export function createLogger(options: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream }): Logger {
  const destination = options.destination ?? process.stdout;
  const level = options.level ?? process.env.TEND_LOG_LEVEL ?? 'info';
  const pretty = options.pretty ?? (destination as { isTTY?: boolean }).isTTY === true;
  return Logger.create(level, (record) => destination.write(pretty ? humanLine(record) : jsonLine(record)));
}
