/**
 * A failure message in one line, for tables, the TUI and phase lines. The daemon writes an exit
 * as `<what> "<command>" exited with code 3; last output:\n<tail>` (`describeExit`), and a command
 * may span lines, so the first line of the message can end inside the command: the one line is
 * made of the exit (`exit 3`, `killed by SIGKILL`) and the line of its output that says what went
 * wrong (`exit 3: fatal: config missing`): the last error line, else the last line that is not a
 * stack frame or a runtime's epilogue (Node ends an uncaught error with its version). A message
 * led by who holds a port (`Port 8787 is held by pid 812 (…), not by service "api": …`) keeps
 * that lead. Other messages are joined into one line.
 */

export interface FailureSummary {
  /** The exit code, when the message names one. */
  readonly exitCode: number | null;
  /** The signal that killed it, when the message names one. */
  readonly signal: string | null;
  readonly line: string;
}

/** A lead the daemon puts before the exit (engine/services/port-conflicts.ts). */
const PORT_HELD = /^(Port \d+ is held by pid \d+ \(.*?\), not by service "[^"]*"): /;

const EXIT = /(exited with code (\d+)|was killed by signal (\w+)|exited with an unknown exit code)(?:; last output:\n([\s\S]*))?$/;

export function summarizeFailure(message: string | undefined): FailureSummary | null {
  if (message === undefined || message.trim() === '') return null;
  const exit = EXIT.exec(message);
  if (exit !== null) {
    const exitCode = exit[2] === undefined ? null : Number(exit[2]);
    const signal = exit[3] ?? null;
    const how = exitCode !== null ? `exit ${exitCode}` : signal !== null ? `killed by ${signal}` : 'exit unknown';
    const held = PORT_HELD.exec(message)?.[1];
    const said = held ?? telling(exit[4] ?? '');
    return { exitCode, signal, line: said === '' ? how : `${how}: ${said}` };
  }
  return { exitCode: null, signal: null, line: oneLine(message) };
}

/** Lines that say nothing of what went wrong: stack frames, carets, an object's fields and braces, Node's version. */
const NOISE = /^(at |\^+$|[{}[\]()]+,?$|\w+: .*,$|\w+: [^ ]+$|Node\.js v\d|Emitted '\w+' event|-{3,}|\.\.\.)/;
/** A line that says an error happened. */
const ERROR = /^(\w*(Error|Exception)\b|error\b|fatal\b|panic\b|E[A-Z]{3,}\b)|\b(error|failed|cannot|could not|not found|denied)\b/i;

/** The line of a command's last output that says what went wrong. */
export function telling(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const meaningful = lines.filter((line) => !NOISE.test(line));
  return meaningful.findLast((line) => ERROR.test(line)) ?? meaningful.at(-1) ?? lines.at(-1) ?? '';
}

/** The last line with something on it. */
export function lastOutputLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim());
  return lines.findLast((line) => line !== '') ?? '';
}

/** Lines joined with ` ⏎ `: nothing is cut at a newline. */
export function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ⏎ ');
}
