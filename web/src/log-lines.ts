/**
 * A log as it streams in → lines. An execution's log of several steps frames each step with
 * `[section-create] {"id","title"}` and `[section-end] {"id","outcome","secondsElapsed"}` lines
 * (`src/api/log-stream.ts`): they become section headers and never show as they are. Pure.
 */

export type LogLine =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'section'; readonly id: string; readonly title: string }
  | { readonly kind: 'section-end'; readonly id: string; readonly outcome: string; readonly seconds: number };

const SECTION_CREATE = /^\[section-create\] (\{.*\})$/;
const SECTION_END = /^\[section-end\] (\{.*\})$/;

function json(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** One complete line (without its newline). A marker line that does not parse stays text. */
export function classifyLine(line: string): LogLine {
  const create = SECTION_CREATE.exec(line);
  if (create !== null) {
    const marker = json(create[1]!);
    if (typeof marker?.id === 'string' && typeof marker.title === 'string') return { kind: 'section', id: marker.id, title: marker.title };
  }
  const end = SECTION_END.exec(line);
  if (end !== null) {
    const marker = json(end[1]!);
    if (typeof marker?.id === 'string') {
      return { kind: 'section-end', id: marker.id, outcome: String(marker.outcome ?? ''), seconds: Number(marker.secondsElapsed ?? 0) };
    }
  }
  return { kind: 'text', text: line };
}

/** Text in → complete lines out; the unfinished last line is kept (`partial`) until its newline comes. */
export class LineSplitter {
  private rest = '';

  push(text: string): string[] {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  get partial(): string {
    return this.rest;
  }
}
