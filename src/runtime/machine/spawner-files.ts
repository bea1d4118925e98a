/**
 * The files of the spawner's spawns (spawner-main.ts): a command's log, opened for it to write
 * into, and its GITPOD_OUTPUT, made empty; both their owner's only, their directories made when
 * missing. Made on libuv's threadpool while the spawner's thread forks, or ahead (`files`
 * requests), then opened on its thread at once. Node's own modules only, as the spawner.
 */
import { close, closeSync, mkdir, open, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** What of a spawn request names its files. */
export interface SpawnFiles {
  /** Its output appended to this file. */
  readonly log?: string;
  /** Made empty first: the command's GITPOD_OUTPUT. */
  readonly output?: string;
}

/**
 * A file opened for appending on libuv's threadpool (made, its owner's only, when missing): its
 * descriptor, or the error. Its directory is made only when the open finds it missing, so a step
 * whose execution already has a log directory takes one trip to the threadpool instead of three
 * (the directory's mkdir, the stat that finds it there, the open): in a chain of tasks the files
 * are on the way of every step.
 */
function openIn(path: string, done: (error: Error | null, fd?: number) => void): void {
  open(path, 'a', 0o600, (error, fd) => {
    if (error?.code !== 'ENOENT') return done(error, fd);
    mkdir(dirname(path), { recursive: true, mode: 0o700 }, (failed) => {
      if (failed !== null) return done(failed);
      open(path, 'a', 0o600, (again, made) => done(again, made));
    });
  });
}

/** A spawn's files: ready (`done`), its log's descriptor, or why the log cannot be opened. */
export interface Prepared {
  done: boolean;
  logFd?: number;
  logError?: string;
}

/**
 * Files made ahead (`op: 'files'`) that no spawn has opened yet; those of steps that never ran
 * (their execution failed first) are forgotten once there are many.
 */
const madeAhead = new Set<string>();
const MADE_AHEAD_MAX = 1024;

/**
 * The files of a spawn that were all made ahead, opened here and now: opening a file that exists
 * takes microseconds, while the trip to the threadpool and back took most of a millisecond on a
 * busy two-core machine (its threads wait to be scheduled). Undefined when one of them was not.
 */
function prepareMadeAhead(request: SpawnFiles): Prepared | undefined {
  const paths = [request.log, request.output].filter((path) => path !== undefined);
  if (!paths.every((path) => madeAhead.has(path))) return undefined;
  for (const path of paths) madeAhead.delete(path);
  const prepared: Prepared = { done: true };
  try {
    if (request.output !== undefined) closeSync(openSync(request.output, 'a', 0o600));
    if (request.log !== undefined) prepared.logFd = openSync(request.log, 'a', 0o600);
  } catch {
    // Removed meanwhile (with its directory): made again the usual way.
    return undefined;
  }
  return prepared;
}

/**
 * The files of a spawn, made while earlier requests are carried out: creating a file is the
 * dearest part of a spawn on some filesystems (an inode: 0.5 to 1.4 ms on this project's VM disk,
 * against 30 µs to open one that exists), and on the threadpool it runs beside the forks of the
 * main thread instead of before each of them.
 * `ready` is called once they are, unless they were at once.
 */
export function prepareFiles(request: SpawnFiles, ready: () => void): Prepared {
  const ahead = prepareMadeAhead(request);
  if (ahead !== undefined) return ahead;
  const prepared: Prepared = { done: false };
  let waiting = (request.log !== undefined ? 1 : 0) + (request.output !== undefined ? 1 : 0);
  const settle = (): void => {
    if (--waiting > 0) return;
    prepared.done = true;
    ready();
  };
  if (waiting === 0) prepared.done = true;
  if (request.log !== undefined) {
    openIn(request.log, (error, fd) => {
      if (error !== null) prepared.logError = `Cannot open its log file: ${error.message}`;
      else prepared.logFd = fd;
      settle();
    });
  }
  if (request.output !== undefined) {
    // The command may still make it; a broken state directory shows in its log.
    openIn(request.output, (error, fd) => {
      if (error === null && fd !== undefined) close(fd, () => {});
      settle();
    });
  }
  return prepared;
}

/**
 * Made ahead on the threadpool, in the queue's order (after the spawns asked for before, so never
 * beside their forks): the next group of a task's plan while this one runs, so that a chain of
 * tasks creates no file on its way. Its spawn then opens them here at once (prepareMadeAhead),
 * appending, never truncating, as it would open files it had made itself.
 */
export function makeFiles(paths: readonly string[]): void {
  for (const path of paths) {
    openIn(path, (error, fd) => {
      if (error !== null || fd === undefined) return;
      close(fd, () => {});
      if (madeAhead.size >= MADE_AHEAD_MAX) madeAhead.clear();
      madeAhead.add(path);
    });
  }
}
