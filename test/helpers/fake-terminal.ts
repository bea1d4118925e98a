/**
 * A terminal in memory for the TUI's in-process tests: stdin a stream that says it is a TTY (keys
 * are written into it), stdout a stream with a size that keeps a grid of what a terminal would
 * show. It understands what `ScreenWriter` sends (cursor position, erase line and screen, the
 * alternate screen, cursor visibility) and drops colours, so `screen()` is the plain text on it.
 */
import { PassThrough, Writable } from 'node:stream';

const SEQUENCE = /\u001b\[(\??)([0-9;]*)([A-Za-z])|\u001b\][^\u0007]*\u0007/g;

export class FakeTerminal {
  readonly stdin: PassThrough & { isTTY: boolean; rawMode: boolean; setRawMode: (mode: boolean) => void };
  readonly stdout: Writable & { isTTY: boolean; columns: number; rows: number };
  /** Everything written, as it came. */
  written = '';
  alternate = false;
  cursorVisible = true;
  private grid: string[][];
  private row = 0;
  private column = 0;
  private saved: [number, number] = [0, 0];

  constructor(columns = 100, rows = 30) {
    const stdin = new PassThrough() as FakeTerminal['stdin'];
    stdin.isTTY = true;
    stdin.rawMode = false;
    stdin.setRawMode = (mode: boolean) => {
      stdin.rawMode = mode;
    };
    this.stdin = stdin;
    const stdout = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.apply(chunk.toString('utf8'));
        done();
      },
    }) as FakeTerminal['stdout'];
    stdout.isTTY = true;
    stdout.columns = columns;
    stdout.rows = rows;
    this.stdout = stdout;
    this.grid = this.blank();
  }

  /** The visible text, one string per row, right-trimmed. */
  screen(): string {
    return this.grid.map((cells) => cells.join('').trimEnd()).join('\n');
  }

  /** Types one key (a character, or an escape sequence such as '\u001b[A'). */
  key(sequence: string): void {
    this.stdin.write(sequence);
  }

  resize(columns: number, rows: number): void {
    this.stdout.columns = columns;
    this.stdout.rows = rows;
    this.grid = this.blank();
    this.stdout.emit('resize');
  }

  private blank(): string[][] {
    return Array.from({ length: this.stdout?.rows ?? 30 }, () => Array.from({ length: this.stdout?.columns ?? 100 }, () => ' '));
  }

  private apply(text: string): void {
    this.written += text;
    let last = 0;
    for (const match of text.matchAll(SEQUENCE)) {
      this.put(text.slice(last, match.index));
      last = match.index + match[0].length;
      const [, privateMode, params = '', command] = match;
      if (command === undefined) continue;
      if (privateMode === '?') {
        if (params === '25') this.cursorVisible = command === 'h';
        if (params === '1049') {
          // Entering saves the cursor, leaving restores it (the main screen's text is not kept here).
          this.alternate = command === 'h';
          if (command === 'h') this.saved = [this.row, this.column];
          else [this.row, this.column] = this.saved;
          this.grid = this.blank();
        }
        continue;
      }
      if (command === 'H') {
        const [row = '1', column = '1'] = params.split(';');
        this.row = Number(row) - 1;
        this.column = Number(column) - 1;
      } else if (command === 'K' && params === '2') {
        this.grid[this.row]?.fill(' ');
      } else if (command === 'J' && params === '2') {
        this.grid = this.blank();
      }
    }
    this.put(text.slice(last));
  }

  private put(text: string): void {
    for (const char of text) {
      if (char === '\n') {
        this.row = Math.min(this.row + 1, this.grid.length - 1);
        this.column = 0;
        continue;
      }
      const cells = this.grid[this.row];
      if (cells !== undefined && this.column < cells.length) cells[this.column] = char;
      this.column += 1;
    }
  }
}
