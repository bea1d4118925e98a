/**
 * Everyone's output, as it is written, on top of a `ResourceWatch`: each service's log, and its
 * next session's log as soon as the service has one (a restart is a new session, a new
 * `logUrl`), and each task execution's log, also of executions started later. Output arrives as
 * `LogItem`s (lines with the section they belong to, a section's start and end), decoded with a
 * streaming decoder so a character split across reads stays whole.
 *
 * What a log held before following began is the caller's choice (`initial`): all of it, none
 * (`new`: an attached `tend up`), or its last N lines. A service's log does that with the
 * endpoint's `tail`; an execution's log has no tail, so it is read once without following, its
 * complete lines counted, and followed skipping that many (a line counts the same both times:
 * masking works line by line). An execution's log is followed until the log itself ends, never
 * until its phase says it ended: an execution may be FAILED while steps of its group still write.
 */
import type { Service, TaskExecution } from '../domain/schema.js';
import { LineDecoder } from './line-decoder.js';
import { LogItemParser, sharedStepOwner, type LogItem } from './log-items.js';
import type { ResourceChange, ResourceWatch } from './resource-watch.js';

export interface OutputSource {
  readonly kind: 'service' | 'execution';
  /** The service's id, or the execution's. */
  readonly id: string;
  /** The service's reference, or the task's. */
  readonly name: string;
  /** The task of an execution. */
  readonly taskId?: string;
}

/** How much of a log that exists when following begins is given: all, none, or its last lines. */
export type InitialOutput = 'all' | 'new' | { readonly tail: number };

export interface OutputFollowerOptions {
  readonly includeService?: (service: Service) => boolean;
  readonly includeExecution?: (execution: TaskExecution) => boolean;
  /** For the logs there are when following begins (later ones are given from their start). */
  readonly initial: (source: OutputSource) => InitialOutput;
  /**
   * For views of several logs at once: a step's section is left out when it has no output (a
   * service step: the service's own log is in the view) or when its output is in another
   * execution's log that is followed too (a task shared within a firing).
   */
  readonly compact?: boolean;
  /** Count what each log held before following began, so those items come with `live` false. */
  readonly markEarlier?: boolean;
  /** `live` is false for items that were in the log before following began (with `markEarlier`). */
  readonly onItem: (source: OutputSource, item: LogItem, live: boolean) => void;
  /** A log begins: a service's first or next session, an execution's log. */
  readonly onLog?: (source: OutputSource, url: string) => void;
}

export class OutputFollower {
  private readonly abort = new AbortController();
  private readonly seen = new Set<string>();
  private readonly byUrl = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private started = false;

  constructor(
    private readonly watch: ResourceWatch,
    private readonly options: OutputFollowerOptions,
  ) {}

  start(): this {
    for (const service of this.watch.services.values()) this.consider({ kind: 'service', service }, true);
    for (const execution of this.watch.executions.values()) this.consider({ kind: 'execution', execution }, true);
    this.started = true;
    this.watch.on('change', this.onChange);
    return this;
  }

  stop(): void {
    this.watch.off('change', this.onChange);
    this.abort.abort();
  }

  /** Resolves once every log followed so far has ended (or following stopped). */
  async drained(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * Resolves once the log at `url` has ended (at once if it is not followed). A caller that
   * learned of the log from the same change as this follower may ask before this follower heard
   * of it (listeners run in the order they were added): the answer waits for the change's
   * dispatch to end.
   */
  async logEnded(url: string | undefined): Promise<void> {
    if (url === undefined) return;
    await Promise.resolve();
    await this.byUrl.get(url);
  }

  private readonly onChange = (change: ResourceChange): void => {
    if (change.kind === 'service' || change.kind === 'execution') this.consider(change, false);
  };

  private consider(change: Extract<ResourceChange, { kind: 'service' | 'execution' }>, existing: boolean): void {
    let source: OutputSource;
    let url: string | undefined;
    if (change.kind === 'service') {
      const { service } = change;
      if (this.options.includeService?.(service) === false) return;
      source = { kind: 'service', id: service.id, name: service.metadata.reference ?? service.id };
      url = service.status.logUrl;
    } else {
      const { execution } = change;
      if (this.options.includeExecution?.(execution) === false) return;
      const task = this.watch.tasks.get(execution.metadata.taskId);
      source = { kind: 'execution', id: execution.id, name: task?.metadata.reference ?? execution.metadata.taskId, taskId: execution.metadata.taskId };
      url = execution.status.logUrl;
    }
    if (url === undefined || url === '' || this.seen.has(url)) return;
    this.seen.add(url);
    // A log that begins after following began is new output from its first line.
    const initial = existing && !this.started ? this.options.initial(source) : 'fresh';
    const following = this.follow(source, url, initial).catch(() => {
      // The daemon went away or following stopped: the watch says which.
    });
    this.running.add(following);
    this.byUrl.set(url, following);
    void following.finally(() => this.running.delete(following));
  }

  private async follow(source: OutputSource, url: string, initial: InitialOutput | 'fresh'): Promise<void> {
    const { signal } = this.abort;
    this.options.onLog?.(source, url);
    const query: Record<string, string> = { follow: 'true' };
    /** Items of the followed stream to drop, then to give as earlier output (not live). */
    let skip = 0;
    let earlier = 0;
    let head: LogItem | undefined;
    if (initial === 'fresh') {
      // All of it is new output.
    } else if (source.kind === 'service') {
      // A service's log has its own tail; what it held before is counted only when asked.
      if (initial === 'new') query.tail = '0';
      else if (initial !== 'all') query.tail = String(initial.tail);
      if (initial !== 'new' && this.options.markEarlier === true) earlier = (await this.completeItems(url, query.tail)).length;
    } else if (initial === 'new') {
      skip = (await this.completeItems(url)).length;
    } else if (initial === 'all') {
      if (this.options.markEarlier === true) earlier = (await this.completeItems(url)).length;
    } else {
      // An execution's log has no tail: drop what comes before its last lines, but say whose they are.
      const before = await this.completeItems(url);
      skip = keptFrom(before, initial.tail);
      earlier = before.length - skip;
      const kept = lastLines(before, initial.tail);
      head = kept[0] !== before[skip] ? kept[0] : undefined;
    }
    const response = await this.watch.client.fetchLog(url, query, signal);
    const emit = this.options.compact === true ? this.compactor(source) : this.options.onItem;
    if (head !== undefined) emit(source, head, false);
    const decoder = new LineDecoder();
    const parser = new LogItemParser();
    const give = (line: string): void => {
      const item = parser.parse(line);
      if (skip > 0) {
        skip -= 1;
        return;
      }
      const live = earlier === 0;
      if (!live) earlier -= 1;
      emit(source, item, live);
    };
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) for (const line of decoder.push(chunk)) give(line);
    for (const line of decoder.end()) give(line);
  }

  private compactor(source: OutputSource): (source: OutputSource, item: LogItem, live: boolean) => void {
    const compactor = new SectionCompactor((id) => this.followsExecution(id));
    return (_source, item, live) => {
      for (const kept of compactor.push(item)) this.options.onItem(source, kept, live);
    };
  }

  /** Whether an execution's log is (or will be) followed here. */
  private followsExecution(id: string): boolean {
    const execution = this.watch.executions.get(id);
    return execution !== undefined && this.options.includeExecution?.(execution) !== false;
  }

  /** A log as it is now, as items, without a last line still being written. */
  private async completeItems(url: string, tail?: string): Promise<LogItem[]> {
    const response = await this.watch.client.fetchLog(url, { follow: 'false', ...(tail !== undefined ? { tail } : {}) }, this.abort.signal);
    const decoder = new LineDecoder();
    const parser = new LogItemParser();
    const items: LogItem[] = [];
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) for (const line of decoder.push(chunk)) items.push(parser.parse(line));
    return items;
  }
}

/**
 * Leaves out what a view of several logs at once does not need: a step's section with no output
 * (a service step: the service's own log is in the view), and one whose output is in another
 * execution's log that the view shows too (a task shared within a firing: its only line says
 * where). A section's start is held back until its first line decides.
 */
export class SectionCompactor {
  private held: LogItem | undefined;
  private hidden = false;

  constructor(private readonly shownElsewhere: (executionId: string) => boolean) {}

  push(item: LogItem): LogItem[] {
    if (item.kind === 'section-start') {
      this.held = item;
      this.hidden = false;
      return [];
    }
    if (item.kind === 'section-end') {
      const shown = this.held === undefined && !this.hidden;
      this.held = undefined;
      this.hidden = false;
      return shown ? [item] : [];
    }
    if (this.hidden) return [];
    if (this.held === undefined) return [item];
    const owner = sharedStepOwner(item.text);
    if (owner !== undefined && this.shownElsewhere(owner)) {
      this.held = undefined;
      this.hidden = true;
      return [];
    }
    const start = this.held;
    this.held = undefined;
    return [start, item];
  }
}

/** Where the last `count` output lines of a log's items begin (section starts and ends among them kept). */
function keptFrom(items: readonly LogItem[], count: number): number {
  if (count <= 0) return items.length;
  let seen = 0;
  let first = items.length;
  for (let index = items.length - 1; index >= 0 && seen < count; index--) {
    if (items[index]!.kind === 'line') seen += 1;
    first = index;
  }
  return first;
}

/**
 * The last `count` output lines of a log's items, with the section starts and ends among them,
 * and the start of the section the first of them is in (so a header says whose lines they are).
 */
export function lastLines(items: readonly LogItem[], count: number): LogItem[] {
  const first = keptFrom(items, count);
  const kept = items.slice(first);
  const head = kept[0];
  if (head?.kind === 'line' && head.section !== null) {
    const start = items.slice(0, first).findLast((item) => item.kind === 'section-start');
    if (start !== undefined) kept.unshift(start);
  }
  return kept;
}
