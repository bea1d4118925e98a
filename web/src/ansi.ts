/**
 * ANSI escape sequences of a log line → segments of text with a style. SGR (colours and
 * attributes: 16, 256 and 24-bit colours, bold, dim, italic, underline, inverse, strike) is kept;
 * every other escape (cursor moves, erase, OSC titles and links) and control character is dropped.
 * The style carries on from one line to the next, as in a terminal. Pure (no DOM): `log-dom.ts`
 * turns segments into nodes, colours set through CSSOM so the page's policy (no style attributes)
 * holds.
 */

/** 0–15: the theme's palette (CSS classes); 16–255: the xterm cube and greys; or 24-bit. */
export type Color = { readonly index: number } | { readonly rgb: readonly [number, number, number] };

export interface Style {
  readonly fg?: Color;
  readonly bg?: Color;
  readonly bold?: boolean;
  readonly dim?: boolean;
  readonly italic?: boolean;
  readonly underline?: boolean;
  readonly inverse?: boolean;
  readonly strike?: boolean;
}

export interface Segment {
  readonly text: string;
  readonly style: Style;
}

// CSI (with its parameters), OSC (ended by BEL or ST, or cut off), any other escape, other C0 controls.
const ESCAPES = /\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f]/g;

/** The 256-colour palette beyond the first 16, as RGB. */
export function xterm256(index: number): readonly [number, number, number] {
  if (index >= 232) {
    const grey = 8 + (index - 232) * 10;
    return [grey, grey, grey];
  }
  const cube = index - 16;
  const level = (value: number): number => (value === 0 ? 0 : 55 + value * 40);
  return [level(Math.floor(cube / 36)), level(Math.floor(cube / 6) % 6), level(cube % 6)];
}

function extendedColor(codes: number[], at: number): { color: Color | undefined; used: number } {
  if (codes[at + 1] === 5) {
    const index = codes[at + 2];
    if (index === undefined || index < 0 || index > 255) return { color: undefined, used: 2 };
    return { color: index < 16 ? { index } : { rgb: xterm256(index) }, used: 2 };
  }
  if (codes[at + 1] === 2) {
    const [r, g, b] = [codes[at + 2], codes[at + 3], codes[at + 4]].map((value) => Math.max(0, Math.min(255, value ?? 0)));
    return { color: { rgb: [r!, g!, b!] }, used: 4 };
  }
  return { color: undefined, used: 0 };
}

/** The style after one SGR sequence's parameters (`1;31`, `38;5;208`, `` = reset). */
export function applySgr(style: Style, parameters: string): Style {
  const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map((part) => (part === '' ? 0 : Number(part)));
  let next: { -readonly [K in keyof Style]: Style[K] } = { ...style };
  for (let at = 0; at < codes.length; at++) {
    const code = codes[at]!;
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 9) next.strike = true;
    else if (code === 22) next.bold = next.dim = undefined;
    else if (code === 23) next.italic = undefined;
    else if (code === 24) next.underline = undefined;
    else if (code === 27) next.inverse = undefined;
    else if (code === 29) next.strike = undefined;
    else if (code >= 30 && code <= 37) next.fg = { index: code - 30 };
    else if (code >= 90 && code <= 97) next.fg = { index: code - 90 + 8 };
    else if (code >= 40 && code <= 47) next.bg = { index: code - 40 };
    else if (code >= 100 && code <= 107) next.bg = { index: code - 100 + 8 };
    else if (code === 39) next.fg = undefined;
    else if (code === 49) next.bg = undefined;
    else if (code === 38 || code === 48) {
      const { color, used } = extendedColor(codes, at);
      if (color !== undefined) next[code === 38 ? 'fg' : 'bg'] = color;
      at += used;
    }
  }
  for (const key of Object.keys(next) as (keyof Style)[]) if (next[key] === undefined) delete next[key];
  return next;
}

/** Parses line after line; the style at the end of one line is where the next begins. */
export class AnsiParser {
  private style: Style = {};

  /** The segments of a complete line; `commit` false parses an unfinished one without moving the style on. */
  line(text: string, commit = true): Segment[] {
    const before = this.style;
    // A carriage return rewrites the line from its start (progress bars): keep what was written last.
    const cut = text.lastIndexOf('\r');
    const visible = cut >= 0 ? text.slice(cut + 1) : text;
    const segments: Segment[] = [];
    let last = 0;
    const push = (end: number): void => {
      if (end > last) segments.push({ text: visible.slice(last, end), style: this.style });
    };
    for (const match of visible.matchAll(ESCAPES)) {
      push(match.index);
      last = match.index + match[0].length;
      if (match[2] === 'm') this.style = applySgr(this.style, match[1] ?? '');
    }
    push(visible.length);
    if (!commit) this.style = before;
    return segments;
  }
}

/** The text of a line without its escapes (what search looks in). */
export function plainText(segments: readonly Segment[]): string {
  return segments.map((segment) => segment.text).join('');
}
