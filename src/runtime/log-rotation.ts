/**
 * Bounded log files. Commands write their output straight into their log file (O_APPEND), so tend
 * can neither block them nor lose what they write by being slow. A log over the cap is rotated:
 * its last `cap` bytes are copied to `<log>.1` (replacing the previous one) and it is truncated;
 * the command keeps appending at the new end. The check runs when the file grows (inotify), at
 * most every `minCheckMs`; only a file that cannot be watched is checked once a second instead.
 * An idle log costs nothing. The copy runs off the event loop.
 *
 * The bound on disk: at most twice the cap, plus what the command writes while one rotation runs
 * (the check delay and the copy of `cap` bytes: tens of milliseconds). What it writes during the
 * copy is copied after it (a few passes, then one last chunk with the truncation), so `.1` holds
 * the cap and, after it, up to another cap's worth written during the rotation. Only what the
 * command writes in the microseconds of that last step is lost, or what a writer faster than the
 * copy wrote beyond it.
 */
import { fstatSync, readFileSync, readSync, renameSync, rmSync, truncateSync, watch, writeFileSync, writeSync, type FSWatcher } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { lazyBuiltin } from '../domain/lazy-builtin.js';
import { parseRotation, rotationRecordPath, type Rotation } from '../domain/rotation-record.js';

const fsPromises = lazyBuiltin<typeof FsPromises>('node:fs/promises');

/** The last rotation of a log, or none. */
function lastRotation(path: string): Rotation | undefined {
  try {
    return parseRotation(readFileSync(rotationRecordPath(path), 'utf8'));
  } catch {
    return undefined;
  }
}

export const DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024;
export const ROTATION_CHECK_MS = 1000;
/** How soon after a write a growing log is checked, at the earliest. */
export const ROTATION_MIN_CHECK_MS = 10;
const COPY_CHUNK_BYTES = 1024 * 1024;
/** How many times a rotation copies what was written during its copy before its last step. */
const CATCH_UP_PASSES = 4;

/** Copies `[from, to)` of `source` to the end of `target`; returns where it got to. */
async function copyRange(source: FileHandle, target: FileHandle, buffer: Buffer, from: number, to: number): Promise<number> {
  let position = from;
  while (position < to) {
    const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, to - position), position);
    if (bytesRead === 0) break;
    await target.write(buffer, 0, bytesRead);
    position += bytesRead;
  }
  return position;
}

interface Tracked {
  watcher: FSWatcher | undefined;
  timer: NodeJS.Timeout | undefined;
  rotating: Promise<void> | undefined;
  /** Told when the file changes (a STARTING service's probing listens). */
  readonly listeners: Set<() => void>;
}

export class LogRotator {
  private readonly active = new Map<string, Tracked>();
  private interval: NodeJS.Timeout | undefined;
  /** Rotations done so far (for tests and benchmarks). */
  rotations = 0;

  constructor(
    readonly maxBytes = DEFAULT_MAX_LOG_BYTES,
    private readonly checkMs = ROTATION_CHECK_MS,
    private readonly minCheckMs = ROTATION_MIN_CHECK_MS,
  ) {}

  track(path: string): void {
    if (this.active.has(path)) return;
    const tracked: Tracked = { watcher: undefined, timer: undefined, rotating: undefined, listeners: new Set() };
    this.active.set(path, tracked);
    try {
      tracked.watcher = watch(path, { persistent: false }, () => {
        for (const listener of tracked.listeners) listener();
        this.soon(path);
      });
      tracked.watcher.on('error', () => {});
      // What was written before the watch began (the spawner opens the log and the command writes
      // before tend tracks it) sends no event: look once now.
      this.soon(path);
    } catch {
      // no inotify for this file: the interval checks it
      this.interval ??= setInterval(() => {
        for (const [path, tracked] of this.active) if (tracked.watcher === undefined) void this.check(path);
      }, this.checkMs).unref();
    }
  }

  /** Calls `listener` whenever the tracked file changes (inotify); returns how to stop. */
  onChange(path: string, listener: () => void): () => void {
    const tracked = this.active.get(path);
    if (tracked === undefined) return () => {};
    tracked.listeners.add(listener);
    return () => tracked.listeners.delete(listener);
  }

  untrack(path: string): void {
    const tracked = this.active.get(path);
    if (tracked === undefined) return;
    tracked.watcher?.close();
    clearTimeout(tracked.timer);
    this.active.delete(path);
    if (this.active.size === 0) {
      clearInterval(this.interval);
      this.interval = undefined;
    }
  }

  /** The file changed: check it a moment later (a burst of writes is one check). */
  private soon(path: string): void {
    const tracked = this.active.get(path);
    if (tracked === undefined || tracked.timer !== undefined) return;
    tracked.timer = setTimeout(() => {
      tracked.timer = undefined;
      void this.check(path);
    }, this.minCheckMs);
  }

  /**
   * Rotates the log if it is over the cap; resolves once done. Returns whether it rotated. A check
   * while a rotation runs waits for it and looks again: what was written meanwhile may be over
   * the cap, and no timer would look later. One rotation at a time.
   */
  async check(path: string): Promise<boolean> {
    const tracked = this.active.get(path);
    if (tracked === undefined) return false;
    // A rotation that fails (its file removed meanwhile) is not this check's failure.
    while (tracked.rotating !== undefined) await tracked.rotating.catch(() => {});
    let size: number;
    try {
      size = (await fsPromises().stat(path)).size;
    } catch {
      return false;
    }
    if (size <= this.maxBytes || this.active.get(path) !== tracked) return false;
    // Another check began a rotation while this one read the size: its turn after that one.
    if (tracked.rotating !== undefined) return this.check(path);
    tracked.rotating = this.rotate(path, size).finally(() => (tracked.rotating = undefined));
    await tracked.rotating.catch(() => {});
    return true;
  }

  /**
   * Copies the last `maxBytes` bytes (of the first `size`) to `<path>.1`, then what the command
   * wrote meanwhile, then truncates. The bulk is copied off the event loop; the last bytes, the
   * record and the truncation run in one synchronous step, so only what the command writes in
   * those microseconds is lost (and no follower in this process sees the record before the
   * truncation, or the truncation before the record).
   */
  private async rotate(path: string, size: number): Promise<void> {
    const source = await fsPromises().open(path, 'r');
    const temporary = `${path}.1.${process.pid}-${Date.now()}.new`;
    const target = await fsPromises().open(temporary, 'w', 0o600);
    const from = Math.max(0, size - this.maxBytes);
    const buffer = Buffer.alloc(COPY_CHUNK_BYTES);
    let renamed = false;
    try {
      let copied = await copyRange(source, target, buffer, from, size);
      // Catch up with a command that goes on writing while the copy runs, until little is left;
      // at most another cap's worth (`.1` holds at most twice the cap).
      const limit = size + this.maxBytes;
      for (let pass = 0; pass < CATCH_UP_PASSES; pass++) {
        const now = Math.min((await source.stat()).size, limit);
        if (now - copied <= COPY_CHUNK_BYTES) break;
        copied = await copyRange(source, target, buffer, copied, now);
      }
      // The last step: at most one chunk more (what a writer faster than the copy wrote beyond it is lost).
      const end = Math.min(fstatSync(source.fd).size, copied + COPY_CHUNK_BYTES, limit);
      for (let position = copied; position < end; ) {
        const bytesRead = readSync(source.fd, buffer, 0, end - position, position);
        if (bytesRead === 0) break;
        writeSync(target.fd, buffer, 0, bytesRead);
        position += bytesRead;
        copied = position;
      }
      renameSync(temporary, `${path}.1`);
      renamed = true;
      const record: Rotation = { generation: (lastRotation(path)?.generation ?? 0) + 1, from, to: copied };
      writeFileSync(`${rotationRecordPath(path)}.new`, JSON.stringify(record), { mode: 0o600 });
      renameSync(`${rotationRecordPath(path)}.new`, rotationRecordPath(path));
      truncateSync(path, 0);
    } finally {
      await source.close();
      await target.close();
      if (!renamed) rmSync(temporary, { force: true });
    }
    this.rotations += 1;
  }

  close(): void {
    clearInterval(this.interval);
    this.interval = undefined;
    for (const path of [...this.active.keys()]) this.untrack(path);
  }
}
