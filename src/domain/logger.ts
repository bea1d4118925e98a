/**
 * The daemon's log as records: `{level, time, …bindings, …fields, msg}` (pino's shape and levels,
 * so that tools that read pino's logs read tend's). An `err` field that is an Error becomes
 * `{type, message, stack}`, as pino's serializer makes it. Where records go is the writer's
 * business (`app/logger.ts`: JSON lines, or short lines on a terminal).
 */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LevelName = keyof typeof LEVELS;
export const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export type Fields = Record<string, unknown>;
type LogMethod = {
  (message: string): void;
  (fields: Fields, message?: string): void;
};

interface Sink {
  readonly threshold: number;
  readonly write: (record: Fields) => void;
}

function serialize(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { type: value.name, message: value.message, ...(value.stack !== undefined ? { stack: value.stack } : {}) };
}

export class Logger {
  readonly trace: LogMethod = this.method(LEVELS.trace);
  readonly debug: LogMethod = this.method(LEVELS.debug);
  readonly info: LogMethod = this.method(LEVELS.info);
  readonly warn: LogMethod = this.method(LEVELS.warn);
  readonly error: LogMethod = this.method(LEVELS.error);
  readonly fatal: LogMethod = this.method(LEVELS.fatal);

  private constructor(
    private readonly sink: Sink,
    private readonly bindings: Fields,
  ) {}

  /** A logger of `level` and above ('silent': none) that hands each record to `write`. */
  static create(level: string, write: (record: Fields) => void): Logger {
    const threshold = LEVELS[level as LevelName] ?? (level === 'silent' ? Infinity : LEVELS.info);
    return new Logger({ threshold, write }, {});
  }

  /** A logger whose every line also carries `bindings`. */
  child(bindings: Fields): Logger {
    return new Logger(this.sink, { ...this.bindings, ...bindings });
  }

  private method(level: number): LogMethod {
    return ((first: Fields | string, message?: string) => {
      if (level < this.sink.threshold) return;
      const record: Fields = { level, time: Date.now(), ...this.bindings };
      if (typeof first === 'string') {
        record.msg = first;
      } else {
        for (const [key, value] of Object.entries(first)) record[key] = key === 'err' ? serialize(value) : value;
        if (message !== undefined) record.msg = message;
      }
      this.sink.write(record);
    }) as LogMethod;
  }
}
