/**
 * A log's lines as DOM nodes, built by hand (a long log is thousands of lines; no virtual DOM for
 * them): text through `textContent`, the 16 palette colours as classes the themes define, other
 * colours through CSSOM (`style.color`), which the page's policy allows where a style attribute
 * would be refused. Search matches are wrapped in `<mark>`.
 */
import type { Color, Segment, Style } from './ansi.js';

function rgb(color: Color): string | undefined {
  return 'rgb' in color ? `rgb(${color.rgb.join(',')})` : undefined;
}

function styledSpan(text: string, style: Style): HTMLElement | Text {
  const keys = Object.keys(style);
  if (keys.length === 0) return document.createTextNode(text);
  const span = document.createElement('span');
  const fg = style.inverse === true ? (style.bg ?? { index: -1 }) : style.fg;
  const bg = style.inverse === true ? (style.fg ?? { index: -2 }) : style.bg;
  if (fg !== undefined) {
    if ('index' in fg) span.classList.add(fg.index === -1 ? 'ansi-fg-bg' : `ansi-fg-${fg.index}`);
    else span.style.color = rgb(fg)!;
  }
  if (bg !== undefined) {
    if ('index' in bg) span.classList.add(bg.index === -2 ? 'ansi-bg-fg' : `ansi-bg-${bg.index}`);
    else span.style.backgroundColor = rgb(bg)!;
  }
  for (const attribute of ['bold', 'dim', 'italic', 'underline', 'strike'] as const) if (style[attribute] === true) span.classList.add(`ansi-${attribute}`);
  span.textContent = text;
  return span;
}

/**
 * The nodes of one line; `query` (lower case) marks every match, whatever segments it spans.
 * Returns how many matches the line has.
 */
export function renderLine(target: HTMLElement, segments: readonly Segment[], query: string): number {
  target.replaceChildren();
  const text = segments.map((segment) => segment.text).join('');
  const ranges: Array<[number, number]> = [];
  if (query !== '') {
    const lower = text.toLowerCase();
    for (let at = lower.indexOf(query); at >= 0; at = lower.indexOf(query, at + query.length)) ranges.push([at, at + query.length]);
  }
  let offset = 0;
  let range = 0;
  for (const segment of segments) {
    let start = 0;
    while (start < segment.text.length) {
      const absolute = offset + start;
      const current = ranges[range];
      if (current === undefined || absolute < current[0]) {
        const end = current === undefined ? segment.text.length : Math.min(segment.text.length, current[0] - offset);
        target.append(styledSpan(segment.text.slice(start, end), segment.style));
        start = end;
        continue;
      }
      const end = Math.min(segment.text.length, current[1] - offset);
      const mark = document.createElement('mark');
      mark.append(styledSpan(segment.text.slice(start, end), segment.style));
      target.append(mark);
      start = end;
      if (offset + end >= current[1]) range += 1;
    }
    offset += segment.text.length;
  }
  if (text === '') target.append('\u200b');
  return ranges.length;
}
