/**
 * Puts screen lines on a terminal: on the alternate screen (what was on the terminal is back
 * afterwards), cursor hidden, and each frame rewrites only the rows that changed since the last
 * one, inside synchronized output (DEC 2026) so a terminal that knows it never shows half a
 * frame. A resize redraws everything. `leave()` restores the terminal on every way out.
 */

const ENTER = '\u001b[?1049h\u001b[?25l\u001b[H\u001b[2J';
const LEAVE = '\u001b[?25h\u001b[?1049l';
const SYNC_BEGIN = '\u001b[?2026h';
const SYNC_END = '\u001b[?2026l';
const RESET = '\u001b[0m';

export interface ScreenStream {
  write(text: string): boolean;
}

export class ScreenWriter {
  private previous: string[] = [];
  private entered = false;

  constructor(private readonly stream: ScreenStream) {}

  enter(): void {
    if (this.entered) return;
    this.entered = true;
    this.previous = [];
    this.stream.write(ENTER);
  }

  /** Everything is drawn again on the next frame (after a resize). */
  invalidate(): void {
    this.previous = [];
    if (this.entered) this.stream.write('\u001b[2J');
  }

  /** Writes the rows that differ from the last frame; returns how many it wrote. */
  draw(lines: readonly string[]): number {
    if (!this.entered) return 0;
    let out = '';
    let written = 0;
    const rows = Math.max(lines.length, this.previous.length);
    for (let row = 0; row < rows; row++) {
      const line = lines[row] ?? '';
      if (this.previous[row] === line) continue;
      // Erased first, not after: an erase after a full-width line would take its last column.
      out += `\u001b[${row + 1};1H${RESET}\u001b[2K${line}${RESET}`;
      written += 1;
    }
    this.previous = [...lines];
    if (out !== '') this.stream.write(`${SYNC_BEGIN}${out}${SYNC_END}`);
    return written;
  }

  leave(): void {
    if (!this.entered) return;
    this.entered = false;
    this.stream.write(`${RESET}${LEAVE}`);
  }
}
