/**
 * A failure message in one line, for tables, the TUI and phase lines. The daemon writes an exit
 * as `<what> "<command>" exited with code 3; last output:\n<tail>` (`describeExit`), and a command
 * may span lines, so the first line of the message can end inside the command: the one line is
 * made of the exit (`exit 3`, `killed by SIGKILL`) and the last line the command printed
 * (`exit 3: fatal: config missing`). Other messages are joined into one line.
 */

export interface FailureSummary {
  /** The exit code, when the message names one. */
  readonly exitCode: number | null;
  /** The signal that killed it, when the message names one. */
  readonly signal: string | null;
  readonly line: string;
}

const EXIT = /(exited with code (\d+)|was killed by signal (\w+)|exited with an unknown exit code)(?:; last output:\n([\s\S]*))?$/;

export function summarizeFailure(message: string | undefined): FailureSummary | null {
  if (message === undefined || message.trim() === '') return null;
  const exit = EXIT.exec(message);
  if (exit !== null) {
    const exitCode = exit[2] === undefined ? null : Number(exit[2]);
    const signal = exit[3] ?? null;
    const how = exitCode !== null ? `exit ${exitCode}` : signal !== null ? `killed by ${signal}` : 'exit unknown';
    const said = lastOutputLine(exit[4] ?? '');
    return { exitCode, signal, line: said === '' ? how : `${how}: ${said}` };
  }
  return { exitCode: null, signal: null, line: oneLine(message) };
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
