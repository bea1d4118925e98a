/**
 * The TUI's scrollback of one service or task: its output lines as they came (made safe for a
 * screen line), across a service's sessions and a task's executions, with a marker line where a
 * new one began and a task's steps under their headers. At most MAX_LINES are kept; older lines
 * go first. `dropped` counts them, so a scroll position can stay on the same line.
 */
import { sectionHeader, type LogItem } from '../../client/log-items.js';
import { screenSafe } from '../terminal-text.js';

export const MAX_LINES = 10_000;

export interface BufferedLine {
  readonly text: string;
  /** A line tend wrote (a header, a marker), not the command. */
  readonly tend: boolean;
}

export class LogBuffer {
  private readonly lines: BufferedLine[] = [];
  dropped = 0;
  /** Grows with every line added; a view redraws when it changed. */
  version = 0;

  constructor(private readonly max = MAX_LINES) {}

  get length(): number {
    return this.lines.length;
  }

  at(index: number): BufferedLine | undefined {
    return this.lines[index];
  }

  slice(start: number, end: number): BufferedLine[] {
    return this.lines.slice(Math.max(0, start), Math.max(0, end));
  }

  add(item: LogItem): void {
    if (item.kind === 'line') this.push({ text: screenSafe(item.text), tend: false });
    else this.push({ text: sectionHeader(item), tend: true });
  }

  /** A line of tend's own: a new session or execution began. */
  mark(text: string): void {
    this.push({ text, tend: true });
  }

  /** The indexes of the lines containing `query` (case-insensitive, plain text). */
  find(query: string, plain: (text: string) => string): number[] {
    if (query === '') return [];
    const needle = query.toLowerCase();
    const found: number[] = [];
    this.lines.forEach((line, index) => {
      if (plain(line.text).toLowerCase().includes(needle)) found.push(index);
    });
    return found;
  }

  private push(line: BufferedLine): void {
    this.lines.push(line);
    this.version += 1;
    if (this.lines.length > this.max) {
      const over = this.lines.length - this.max;
      this.lines.splice(0, over);
      this.dropped += over;
    }
  }
}
