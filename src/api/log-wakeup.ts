/**
 * Wakes a log follower when there may be something new: the file it reads grew (inotify through
 * `fs.watch`) or a resource of the daemon changed (a session or a step ended), and at the latest
 * after `fallbackMs` (a file system without inotify). A follower waits on it instead of reading
 * the file every 50 ms: idle followers cost nothing.
 */
import { watch, type FSWatcher } from 'node:fs';

/** Calls the listener on every change of the daemon's resources; returns how to stop. */
export type ChangeSubscription = (listener: () => void) => () => void;

export const LOG_WAKEUP_FALLBACK_MS = 1000;

export class LogWakeup {
  private pending = false;
  private waiter: (() => void) | null = null;
  private watcher: FSWatcher | undefined;
  private watched: string | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    subscribe: ChangeSubscription,
    private readonly fallbackMs = LOG_WAKEUP_FALLBACK_MS,
  ) {
    this.unsubscribe = subscribe(() => this.wake());
  }

  /** Also wakes when `path` changes (the file being read now; replaces the one before). */
  watch(path: string): void {
    if (this.watched === path) return;
    this.watcher?.close();
    this.watched = path;
    try {
      this.watcher = watch(path, { persistent: false }, () => this.wake());
      this.watcher.on('error', () => {});
    } catch {
      this.watcher = undefined; // gone already, or no inotify: the fallback still wakes
    }
  }

  /** Resolves at the next change since the last call (at once if one came meanwhile). */
  async next(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.waiter = resolve;
      timer = setTimeout(resolve, this.fallbackMs);
    });
    clearTimeout(timer);
    this.waiter = null;
    this.pending = false;
  }

  close(): void {
    this.unsubscribe();
    this.watcher?.close();
    this.watcher = undefined;
    this.wake();
  }

  private wake(): void {
    if (this.waiter === null) {
      this.pending = true;
      return;
    }
    const waiter = this.waiter;
    this.waiter = null;
    waiter();
  }
}
