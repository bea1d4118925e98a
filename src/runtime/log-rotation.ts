/**
 * Bounded log files. Commands write their output straight into their log file (O_APPEND), so tend
 * can neither block them nor lose what they write by being slow. A log over the cap is rotated:
 * its last `cap` bytes are copied to `<log>.1` (replacing the previous one) and it is truncated;
 * the command keeps appending at the new end. The check runs when the file grows (inotify), at
 * most every `minCheckMs`; only a file that cannot be watched is checked once a second instead.
 * An idle log costs nothing. The copy runs off the event loop.
 *
 * The bound on disk: at most twice the cap, plus what the command writes while one rotation runs
 * (the check delay and the copy of `cap` bytes: tens of milliseconds). What it writes during that
 * time, between the copy and the truncation, is lost.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { open, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { parseRotation, rotationRecordPath, type Rotation } from '../domain/rotation-record.js';

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
      size = (await stat(path)).size;
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

  /** Copies the last `maxBytes` bytes (of the first `size`) to `<path>.1`, then truncates. */
  private async rotate(path: string, size: number): Promise<void> {
    const source = await open(path, 'r');
    const temporary = `${path}.1.${process.pid}-${Date.now()}.new`;
    const target = await open(temporary, 'w', 0o600);
    const from = Math.max(0, size - this.maxBytes);
    try {
      const buffer = Buffer.alloc(COPY_CHUNK_BYTES);
      for (let position = from; position < size; ) {
        const { bytesRead } = await source.read(buffer, 0, Math.min(COPY_CHUNK_BYTES, size - position), position);
        if (bytesRead === 0) break;
        await target.write(buffer, 0, bytesRead);
        position += bytesRead;
      }
    } finally {
      await source.close();
      await target.close();
    }
    await rename(temporary, `${path}.1`);
    const record: Rotation = { generation: (lastRotation(path)?.generation ?? 0) + 1, from, to: size };
    await writeFile(`${rotationRecordPath(path)}.new`, JSON.stringify(record), { mode: 0o600 });
    await rename(`${rotationRecordPath(path)}.new`, rotationRecordPath(path));
    await truncate(path, 0);
    this.rotations += 1;
  }

  close(): void {
    clearInterval(this.interval);
    this.interval = undefined;
    for (const path of [...this.active.keys()]) this.untrack(path);
  }
}
