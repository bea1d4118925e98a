/**
 * Plain text tables: columns padded to their widest cell, every cell on one line (a multi-line
 * command is joined with ` ⏎ `, never cut at its first newline), and on a terminal the table is
 * kept within its width by shortening one column (the last, or the one named) with `…`.
 */
import { displayWidth, fitWidth } from './terminal-text.js';
import { oneLine } from './failure-reason.js';

export interface TableOptions {
  /** The terminal's width: the `shrink` column is shortened to stay within it. */
  readonly maxWidth?: number | undefined;
  /** Which column gives way (default: the last). */
  readonly shrink?: number;
}

/** A column never gets narrower than this when shortened to fit. */
const MIN_SHRUNK_COLUMN = 12;

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const cells = rows.map((row) => row.map((cell) => oneLine(cell)));
  const widths = header.map((title, column) => Math.max(displayWidth(title), ...cells.map((row) => displayWidth(row[column] ?? ''))));
  const last = header.length - 1;
  const shrink = options.shrink ?? last;
  const total = widths.reduce((sum, width) => sum + width, 0) + 2 * last;
  if (options.maxWidth !== undefined && total > options.maxWidth) {
    widths[shrink] = Math.max(MIN_SHRUNK_COLUMN, (widths[shrink] ?? 0) - (total - options.maxWidth));
  }
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        const cut = displayWidth(cell) > width ? fitWidth(cell, width, { ellipsis: true }) : cell;
        return column === last ? cut : fitWidth(cut, width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

/** The width to keep a table within: the terminal's, when stdout is one. */
export function terminalWidth(): number | undefined {
  return process.stdout.isTTY === true && process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

/** `SERVICE_PHASE_RUNNING` → `running`. */
export function shortEnum(value: string | undefined, prefix: string): string {
  if (value === undefined) return '-';
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value;
}
