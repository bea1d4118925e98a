/**
 * Bounded log files. Commands write their output straight into their log file (O_APPEND), so tend
 * can neither block them nor lose what they write by being slow. Once a second, every active log
 * larger than the cap is rotated: copied to `<log>.1` (replacing the previous one) and truncated;
 * the command keeps appending at the new end. A session thus holds at most twice the cap on disk.
 * Only lines written in the instant between the copy's end and the truncation can be lost.
 */
import { copyFileSync, statSync, truncateSync } from 'node:fs';

export const DEFAULT_MAX_LOG_BYTES = 64 * 1024 * 1024;
export const ROTATION_CHECK_MS = 1000;

export class LogRotator {
  private readonly active = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly maxBytes = DEFAULT_MAX_LOG_BYTES,
    private readonly checkMs = ROTATION_CHECK_MS,
  ) {}

  track(path: string): void {
    this.active.add(path);
    this.timer ??= setInterval(() => this.check(), this.checkMs).unref();
  }

  untrack(path: string): void {
    this.active.delete(path);
    if (this.active.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Rotates every tracked log over the cap; returns how many were rotated. */
  check(): number {
    let rotated = 0;
    for (const path of this.active) {
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        continue;
      }
      if (size <= this.maxBytes) continue;
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      rotated += 1;
    }
    return rotated;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.active.clear();
  }
}
