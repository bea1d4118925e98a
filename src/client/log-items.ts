/**
 * What a served log says, line by line. An execution's log of several steps frames each step
 * with `[section-create] {"id","title"}` and `[section-end] {"id","outcome","secondsElapsed"}`
 * (`api/log-stream.ts`); people should never see that framing, so it becomes items: the start
 * and the end of a section, and output lines with the section they belong to.
 */
export type LogItem =
  | { readonly kind: 'line'; readonly text: string; readonly section: string | null }
  | { readonly kind: 'section-start'; readonly id: string; readonly title: string }
  | { readonly kind: 'section-end'; readonly id: string; readonly title: string; readonly outcome: string; readonly seconds: number | null };

const SECTION_CREATE = /^\[section-create\] (\{.*\})$/;
const SECTION_END = /^\[section-end\] (\{.*\})$/;

/**
 * The line a step's log holds when another execution of the same firing runs that task
 * (`engine/executions/shared-step.ts`): the output is in the owner's log.
 */
const SHARED_STEP = /^\[tend\] ".*" runs once for this trigger: its output is in execution (\S+)$/;

/** The execution whose log holds a shared step's output, if this is a shared step's line. */
export function sharedStepOwner(line: string): string | undefined {
  return SHARED_STEP.exec(line)?.[1];
}

/** The outcome names of `[section-end]` (`stepOutcome`) as people say them. */
const OUTCOMES: Readonly<Record<string, string>> = { success: 'succeeded', failure: 'failed', stopped: 'stopped' };

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Turns lines into items; keeps which section is open (a log's part before any is `null`). */
export class LogItemParser {
  private section: { id: string; title: string } | null = null;

  /** The title of the section lines belong to now (null before the first). */
  get currentSection(): string | null {
    return this.section?.title ?? null;
  }

  parse(line: string): LogItem {
    const create = SECTION_CREATE.exec(line);
    const createBody = create === null ? undefined : parseJson(create[1]!);
    if (createBody !== undefined && typeof createBody.id === 'string') {
      const title = typeof createBody.title === 'string' ? createBody.title : createBody.id;
      this.section = { id: createBody.id, title };
      return { kind: 'section-start', id: createBody.id, title };
    }
    const end = SECTION_END.exec(line);
    const endBody = end === null ? undefined : parseJson(end[1]!);
    if (endBody !== undefined && typeof endBody.id === 'string') {
      const title = this.section?.id === endBody.id ? this.section.title : endBody.id;
      const outcome = typeof endBody.outcome === 'string' ? (OUTCOMES[endBody.outcome] ?? endBody.outcome) : 'ended';
      const seconds = typeof endBody.secondsElapsed === 'number' ? endBody.secondsElapsed : null;
      return { kind: 'section-end', id: endBody.id, title, outcome, seconds };
    }
    return { kind: 'line', text: line, section: this.section?.title ?? null };
  }
}

/** `1.2 s`, `45 s`, `3 min 5 s`: how long a section took. */
export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${(Math.round(seconds * 10) / 10).toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** A section's header as people read it: `── build` at its start, `── build (succeeded, 1.2 s)` at its end. */
export function sectionHeader(item: Extract<LogItem, { kind: 'section-start' | 'section-end' }>): string {
  if (item.kind === 'section-start') return `── ${item.title}`;
  return `── ${item.title} (${item.outcome}${item.seconds === null ? '' : `, ${formatSeconds(item.seconds)}`})`;
}
