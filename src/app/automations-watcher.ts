/**
 * Keeps the daemon in step with its automations file. Watches the file's directory (editors that
 * save by writing a temporary file and renaming it over the original are seen too), folds a burst
 * of events into one reload after a quiet period, never runs two reloads at once, and skips a
 * file whose content hash is the one last applied. An invalid file keeps the last good
 * configuration running; its problems are logged and shown by `tend status`. So does an empty one
 * (truncated, or saved half-way): only a file that says so (`services: {}`) removes everything.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../domain/logger.js';
import { hashText, parseAutomations } from '../config/load-file.js';
import { systemClock, type Clock, type TimerHandle } from '../domain/clock.js';
import { formatProblem, InvalidAutomationsFile } from '../config/problem.js';
import type { Automations } from '../engine/automations.js';
import { utcNow } from '../domain/utc-time.js';

export const DEFAULT_RELOAD_DEBOUNCE_MS = 100;

export interface AutomationsState {
  readonly path: string;
  /** Problems of the file as it is now ([] when it is valid and applied). */
  readonly problems: readonly string[];
  /** Warnings of the configuration applied last (valid, but will surprise at run time). */
  readonly warnings: readonly string[];
  readonly appliedHash: string | null;
  readonly appliedAt: string | null;
  /** How many times a changed file was applied or refused. */
  readonly reloads: number;
  /** How many times the file was read (a reload with an unchanged hash reads but does not apply). */
  readonly reads: number;
}

/** `status`: the file was read again (its problems, what was applied): after every reload. */
export class AutomationsWatcher extends EventEmitter<{ status: [AutomationsState] }> {
  readonly path: string;
  private watcher: FSWatcher | undefined;
  private timer: TimerHandle | undefined;
  private running: Promise<void> = Promise.resolve();
  private rerun = false;
  private busy = false;
  private state: AutomationsState;

  constructor(
    path: string,
    private readonly automations: Automations,
    private readonly log: Logger,
    private readonly debounceMs = DEFAULT_RELOAD_DEBOUNCE_MS,
    private readonly clock: Clock = systemClock,
  ) {
    super();
    this.path = resolve(path);
    this.state = { path: this.path, problems: [], warnings: [], appliedHash: null, appliedAt: null, reloads: 0, reads: 0 };
  }

  get status(): AutomationsState {
    return this.state;
  }

  /** Applies the file once, then watches it. */
  async start(): Promise<void> {
    await this.reload();
    this.emit('status', this.state);
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), { depth: 0, ignoreInitial: true, atomic: false });
    this.watcher.on('all', (_event, changed) => {
      if (basename(changed) === name) this.schedule();
    });
    // chokidar emits no 'change' of a file for 50 ms after the one it emitted: a second save that
    // soon (a formatter on save, a quick fix) would be lost. The raw events of the directory are not held back.
    this.watcher.on('raw', (_event, changed) => {
      if (basename(String(changed)) === name) this.schedule();
    });
    this.watcher.on('error', (error) => this.log.warn({ err: error }, 'Watching the automations file failed'));
    await new Promise<void>((ready) => this.watcher!.once('ready', () => ready()));
  }

  /** A burst of events becomes one reload, `debounceMs` after the last of them. */
  schedule(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.reloadSerially(), this.debounceMs);
  }

  /** Reloads never overlap: one that is asked for during another runs right after it. */
  private reloadSerially(): Promise<void> {
    if (this.busy) {
      this.rerun = true;
      return this.running;
    }
    this.busy = true;
    this.running = (async () => {
      try {
        do {
          this.rerun = false;
          await this.reload();
          this.emit('status', this.state);
        } while (this.rerun);
      } finally {
        this.busy = false;
      }
    })();
    return this.running;
  }

  private async reload(): Promise<void> {
    this.state = { ...this.state, reads: this.state.reads + 1 };
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      // Between an editor's unlink and its rename the file is briefly absent: the next event reloads.
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      this.state = { ...this.state, problems: [`${this.path}:1:1: Cannot read the file: ${code}`] };
      this.log.warn({ file: this.path, code }, 'Automations file unreadable; keeping the last good configuration');
      return;
    }
    const hash = hashText(text);
    if (hash === this.state.appliedHash) {
      this.state = { ...this.state, problems: [] };
      return;
    }
    const reloads = this.state.reloads + 1;
    try {
      const loaded = parseAutomations(text, this.path);
      const result = await this.automations.apply(loaded.file);
      const warnings = loaded.warnings.map((warning) => formatProblem(this.path, warning));
      this.state = { ...this.state, problems: [], warnings, appliedHash: hash, appliedAt: utcNow(), reloads };
      this.log.info({ file: this.path, ...result }, 'Automations file loaded');
      if (warnings.length > 0) this.log.warn({ file: this.path, warnings }, 'Automations file loaded with warnings');
    } catch (error) {
      const problems =
        error instanceof InvalidAutomationsFile
          ? error.problems.map((problem) => formatProblem(this.path, problem))
          : [`${this.path}:1:1: ${(error as Error).message}`];
      this.state = { ...this.state, problems, reloads };
      this.log.warn({ file: this.path, problems }, 'Automations file invalid; keeping the last good configuration');
    }
  }

  async close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    await this.watcher?.close();
    await this.running;
  }
}
