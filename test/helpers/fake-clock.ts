/**
 * A clock moved by hand, for tests of policy: `advance(ms)` runs every timer that falls due, in
 * order, and lets the promises they start settle in between. Nothing sleeps.
 */
import type { Clock, TimerHandle } from '../../src/domain/clock.js';

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

export class FakeClock implements Clock {
  private time = 1_000_000;
  private order = 0;
  private readonly timers = new Map<number, Timer>();

  now(): number {
    return this.time;
  }

  /** Milliseconds since the clock was made. */
  get elapsed(): number {
    return this.time - 1_000_000;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = ++this.order;
    this.timers.set(id, { at: this.time + Math.max(0, ms), order: id, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.delete(handle.id as number);
  }

  /** When the pending timers fall due, in elapsed milliseconds. */
  pending(): number[] {
    return [...this.timers.values()].map((timer) => timer.at - 1_000_000).sort((a, b) => a - b);
  }

  /** Lets callbacks, promises and immediates that are ready run (no time passes). */
  async settle(): Promise<void> {
    for (let round = 0; round < 25; round++) await new Promise((resolve) => setImmediate(resolve));
  }

  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await this.settle();
      const next = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= target)
        .sort(([, a], [, b]) => a.at - b.at || a.order - b.order)[0];
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
    }
    this.time = target;
    await this.settle();
  }
}
