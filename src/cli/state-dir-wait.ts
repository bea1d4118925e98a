/**
 * Waiting for what a daemon says through its state directory, woken by the change and not found
 * by a 20–50 ms poll. The daemon writes `daemon.json` once it answers, and removes it and then
 * `daemon.owner` as it ends, a few milliseconds before it exits; an inotify watch on the directory
 * (`fs.watch`, not recursive: only its own entries) wakes the waiter at once. A slow look beside
 * it covers what changes no file: a daemon killed with -9, a start that fails before it writes.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { daemonRunning, readDaemonInfo, stateFile, type DaemonInfo } from '../app/state-dir.js';

/** How often a waiter looks again without an event. */
const SLOW_LOOK_MS = 250;
/** How often once the daemon has let its lock go: it exits within milliseconds. */
const ENDING_LOOK_MS = 5;

export interface StateDirWait {
  /** The entries whose change is worth a look (their names in the directory). */
  readonly names: readonly string[];
  /** How long until the next look without an event. */
  readonly lookMs: () => number;
  readonly signal?: AbortSignal;
}

/**
 * The first value `look` gives that is not undefined, looked for at once, at each change of one
 * of `names` in `dir` and every `lookMs()`; undefined once `signal` aborts.
 */
export function waitInStateDir<T>(dir: string, look: () => T | undefined, options: StateDirWait): Promise<T | undefined> {
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (value: T | undefined): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', aborted);
      resolve(value);
    };
    const aborted = (): void => finish(undefined);
    const check = (): void => {
      if (done) return;
      const value = look();
      if (value !== undefined) return finish(value);
      clearTimeout(timer);
      timer = setTimeout(check, options.lookMs());
    };
    if (options.signal?.aborted === true) return finish(undefined);
    options.signal?.addEventListener('abort', aborted, { once: true });
    try {
      watcher = watch(dir, (_event, name) => {
        if (name === null || options.names.includes(name)) check();
      });
      watcher.on('error', () => {
        // The directory went away: the slow look goes on alone.
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      // No directory to watch: the slow look alone.
    }
    check();
  });
}

export interface DaemonWait {
  readonly signal?: AbortSignal;
  /** How often to look without an event (tests shorten or lengthen it). */
  readonly slowLookMs?: number;
}

/** Resolves once the daemon of `info` has exited (or `signal` aborts). */
export async function daemonExited(dir: string, info: DaemonInfo, options: DaemonWait = {}): Promise<void> {
  const owner = stateFile.owner(dir);
  const announced = stateFile.daemon(dir);
  const slow = options.slowLookMs ?? SLOW_LOOK_MS;
  await waitInStateDir(dir, () => (daemonRunning(info) ? undefined : true), {
    names: [basename(announced), basename(owner)],
    // Both files are gone once the lock is let go, just before the exit (a daemon of an older tend
    // writes no owner file: its daemon.json goes last). A daemon killed with -9 leaves them: the slow look finds that one.
    lookMs: () => (existsSync(owner) || existsSync(announced) ? slow : ENDING_LOOK_MS),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/** The daemon's info once it answers (it writes daemon.json then), or undefined once `signal` aborts. */
export function daemonAnswering(dir: string, signal: AbortSignal, options: Pick<DaemonWait, 'slowLookMs'> = {}): Promise<DaemonInfo | undefined> {
  const slow = options.slowLookMs ?? SLOW_LOOK_MS;
  return waitInStateDir(dir, () => readDaemonInfo(dir), { names: [basename(stateFile.daemon(dir))], lookMs: () => slow, signal });
}
