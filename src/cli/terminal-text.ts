/**
 * Text as a terminal shows it: how many columns it takes (wide CJK and emoji take two, combining
 * marks none), cut and padded to a width without breaking a character or an SGR colour, and a
 * command's output made safe to put on a screen line (only colours kept; cursor moves, screen
 * clears and titles dropped; a carriage return keeps what was written after it; tabs expanded).
 */

const ESCAPE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;
const SGR = /^\u001b\[[0-9;:]*m$/;
const CONTROL = /[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]|\u001b(?!\[[0-9;:]*m)/g;
const RESET = '\u001b[0m';
const TAB_WIDTH = 8;

// Made on first use: loading ICU's break rules costs start-up time every command would pay.
let cachedSegmenter: Intl.Segmenter | undefined;
const graphemes = (text: string): Intl.Segments => (cachedSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text);

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x33ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xa000 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f680 && code <= 0x1f6ff) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

/** The columns one grapheme takes. */
function graphemeWidth(grapheme: string): number {
  const code = grapheme.codePointAt(0) ?? 0;
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0;
  if (/^\p{Mn}|^\p{Me}|^\p{Cf}/u.test(grapheme)) return 0;
  if (isWide(code) || (/\p{Extended_Pictographic}/u.test(grapheme) && grapheme.includes('\ufe0f'))) return 2;
  return 1;
}

export function stripAnsi(text: string): string {
  return text.replace(ESCAPE, '');
}

/** The columns a text takes on screen (escape sequences take none). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const { segment } of graphemes(stripAnsi(text))) width += graphemeWidth(segment);
  return width;
}

/**
 * Exactly `width` columns: cut (with `…` when `ellipsis`) or padded with spaces. SGR colours in
 * the text are kept; a cut text that used any ends with a reset, so colour never leaks.
 */
export function fitWidth(text: string, width: number, options: { ellipsis?: boolean } = {}): string {
  if (width <= 0) return '';
  const total = displayWidth(text);
  if (total <= width) return text + ' '.repeat(width - total);
  const room = options.ellipsis === true ? width - 1 : width;
  let out = '';
  let used = 0;
  let styled = false;
  let last = 0;
  const take = (plain: string): boolean => {
    for (const { segment } of graphemes(plain)) {
      const w = graphemeWidth(segment);
      if (used + w > room) return false;
      out += segment;
      used += w;
    }
    return true;
  };
  for (const match of text.matchAll(ESCAPE)) {
    if (!take(text.slice(last, match.index))) return finish();
    out += match[0];
    styled ||= SGR.test(match[0]);
    last = match.index + match[0].length;
  }
  take(text.slice(last));
  return finish();

  function finish(): string {
    const cut = options.ellipsis === true ? '…' : '';
    return `${out}${styled ? RESET : ''}${cut}${' '.repeat(Math.max(0, width - used - (cut === '' ? 0 : 1)))}`;
  }
}

/** A command's output line made safe for one screen line: colours only, no control characters. */
export function screenSafe(line: string): string {
  // What a carriage return overwrote is gone on a terminal too (progress bars).
  const carriage = line.lastIndexOf('\r', line.length - 2);
  let text = carriage >= 0 ? line.slice(carriage + 1) : line;
  text = text.replace(/\r$/, '');
  text = text.replace(ESCAPE, (sequence) => (SGR.test(sequence) ? sequence : ''));
  if (text.includes('\t')) {
    let column = 0;
    let expanded = '';
    for (const part of text.split(/(\t)/)) {
      if (part === '\t') {
        const spaces = TAB_WIDTH - (column % TAB_WIDTH);
        expanded += ' '.repeat(spaces);
        column += spaces;
      } else {
        expanded += part;
        column += displayWidth(part);
      }
    }
    text = expanded;
  }
  return text.replace(CONTROL, '');
}
