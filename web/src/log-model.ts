/**
 * One open log, streaming into a container: lines parsed (ANSI, sections) and appended as they
 * come, the unfinished last line shown and replaced, at most MAX_LINES kept in the page, search
 * marks kept on every line. Imperative by design: the component around it (`log-view.tsx`) owns
 * the controls, this owns the nodes.
 */
import { AnsiParser, type Segment } from './ansi.js';
import { classifyLine, LineSplitter } from './log-lines.js';
import { renderLine } from './log-dom.js';
import { formatDuration } from './format.js';

export const MAX_LINES = 20_000;

interface Line {
  readonly element: HTMLElement;
  /** null: a section header. */
  readonly segments: readonly Segment[] | null;
  matches: number;
}

export interface LogEvents {
  /** `streaming` while the log grows, `ended` when the answer ended, or the error's message. */
  state(state: 'streaming' | 'ended' | { error: string }): void;
  /** Lines were added (or the search changed): the number of matching lines now. */
  lines(matching: number, dropped: boolean): void;
}

export class LogModel {
  private readonly parser = new AnsiParser();
  private readonly splitter = new LineSplitter();
  private readonly decoder = new TextDecoder();
  private readonly lines: Line[] = [];
  private readonly sections = new Map<string, HTMLElement>();
  private partial: HTMLElement | undefined;
  private query = '';
  private dropped = false;

  constructor(
    private readonly container: HTMLElement,
    private readonly events: LogEvents,
  ) {
    container.replaceChildren();
  }

  async stream(url: string, signal: AbortSignal): Promise<void> {
    try {
      const response = await fetch(url, { signal, credentials: 'same-origin' });
      if (!response.ok || response.body === null) {
        const text = await response.text();
        let message = text || `HTTP ${response.status}`;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // as it came
        }
        return this.events.state({ error: message });
      }
      this.events.state('streaming');
      const reader = response.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.push(this.decoder.decode(value, { stream: true }));
      }
      this.push(this.decoder.decode());
      this.finish();
      this.events.state('ended');
    } catch (error) {
      if (signal.aborted) return;
      this.events.state({ error: `The log stream broke off: ${(error as Error).message}` });
    }
  }

  /** Marks `query` (any case) in every line; returns how many lines match. */
  search(query: string): number {
    this.query = query.toLowerCase();
    for (const line of this.lines) if (line.segments !== null) line.matches = renderLine(line.element, line.segments, this.query);
    return this.matching().length;
  }

  /** The lines that match the search, first to last. */
  matching(): HTMLElement[] {
    return this.lines.filter((line) => line.matches > 0).map((line) => line.element);
  }

  private push(text: string): void {
    if (text === '') return;
    const fragment = document.createDocumentFragment();
    for (const raw of this.splitter.push(text)) {
      const line = classifyLine(raw);
      if (line.kind === 'text') fragment.append(this.textLine(this.parser.line(line.text)));
      else if (line.kind === 'section') fragment.append(this.sectionHeader(line.id, line.title));
      else this.endSection(line.id, line.outcome, line.seconds);
    }
    this.partial?.remove();
    this.partial = undefined;
    this.container.append(fragment);
    if (this.splitter.partial !== '') {
      this.partial = document.createElement('div');
      this.partial.className = 'log-line';
      renderLine(this.partial, this.parser.line(this.splitter.partial, false), this.query);
      this.container.append(this.partial);
    }
    this.trim();
    this.events.lines(this.query === '' ? 0 : this.matching().length, this.dropped);
  }

  private finish(): void {
    const rest = this.splitter.partial;
    if (rest === '') return;
    this.partial?.remove();
    this.partial = undefined;
    this.container.append(this.textLine(this.parser.line(rest)));
  }

  private textLine(segments: Segment[]): HTMLElement {
    const element = document.createElement('div');
    element.className = 'log-line';
    const matches = renderLine(element, segments, this.query);
    this.lines.push({ element, segments, matches });
    return element;
  }

  private sectionHeader(id: string, title: string): HTMLElement {
    const element = document.createElement('div');
    element.className = 'log-section';
    element.setAttribute('role', 'heading');
    element.setAttribute('aria-level', '3');
    const name = document.createElement('span');
    name.textContent = title;
    const outcome = document.createElement('span');
    outcome.className = 'log-section-outcome';
    element.append(name, outcome);
    this.sections.set(id, outcome);
    this.lines.push({ element, segments: null, matches: 0 });
    return element;
  }

  private endSection(id: string, outcome: string, seconds: number): void {
    const target = this.sections.get(id);
    if (target !== undefined) target.textContent = `${outcome.replace(/^SECTION_OUTCOME_/, '').toLowerCase() || 'ended'}, ${formatDuration(seconds * 1000)}`;
  }

  private trim(): void {
    const excess = this.lines.length - MAX_LINES;
    if (excess <= 0) return;
    for (const line of this.lines.splice(0, excess)) line.element.remove();
    this.dropped = true;
  }
}
