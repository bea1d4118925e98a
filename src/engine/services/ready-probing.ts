/**
 * Runs a service's `ready` command until it exits 0. Probes never overlap; each has its own
 * bound (the probe is killed when it expires); the pause between probes starts short and doubles
 * up to a ceiling, so a fast service is seen ready within tens of milliseconds and a slow one
 * costs little CPU. All of it on the injected clock.
 */
import type { Clock, TimerHandle } from '../../domain/clock.js';
import { formatDuration } from '../../domain/duration.js';
import type { ProbeResult, ProbeRun } from '../../runtime/runtime.js';

export interface ProbeTimings {
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly probeTimeoutMs: number;
}

export const DEFAULT_PROBE_TIMINGS: ProbeTimings = {
  initialIntervalMs: 20,
  maxIntervalMs: 1000,
  probeTimeoutMs: 10_000,
};

export interface ProbingOptions {
  /** The ready command, for messages. */
  readonly command: string;
  /** Starts one probe. */
  readonly run: () => ProbeRun;
  readonly timings: ProbeTimings;
  readonly clock: Clock;
  /** Still not ready after this long: `onTimeout`, with a message naming the last probe's output. 0: never. */
  readonly readinessTimeoutMs: number;
  readonly onReady: () => void;
  readonly onTimeout: (message: string) => void;
}

export class ReadyProbing {
  private cancelled = false;
  private pause: number;
  private timer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private current: ProbeRun | undefined;
  /** What the last probe that ended printed (for the readiness timeout's message). */
  lastResult: ProbeResult | null = null;

  constructor(private readonly options: ProbingOptions) {
    this.pause = options.timings.initialIntervalMs;
    const timeoutMs = options.readinessTimeoutMs;
    if (timeoutMs > 0) this.deadline = options.clock.setTimeout(() => this.timedOut(timeoutMs), timeoutMs);
    // The first probe waits one interval: a probe at the instant of the spawn only races the
    // service's own start and fails, costing a process for nothing.
    this.wait();
  }

  cancel(): void {
    this.cancelled = true;
    this.options.clock.clearTimeout(this.timer);
    this.options.clock.clearTimeout(this.deadline);
    this.current?.kill();
  }

  private timedOut(timeoutMs: number): void {
    if (this.cancelled) return;
    this.cancel();
    const tail = (this.lastResult?.output ?? '').trimEnd();
    this.options.onTimeout(
      `Service did not become ready within ${formatDuration(timeoutMs)}: ready command "${this.options.command}" ` +
        (tail === '' ? 'never exited 0' : `never exited 0; its last output:\n${tail}`),
    );
  }

  private wait(): void {
    const { clock, timings } = this.options;
    this.timer = clock.setTimeout(() => void this.probeOnce(), this.pause);
    this.pause = Math.min(this.pause * 2, timings.maxIntervalMs);
  }

  private async probeOnce(): Promise<void> {
    if (this.cancelled) return;
    const { clock, timings } = this.options;
    const probe = this.options.run();
    this.current = probe;
    const bound = clock.setTimeout(() => probe.kill(), timings.probeTimeoutMs);
    const result = await probe.result;
    clock.clearTimeout(bound);
    this.current = undefined;
    if (this.cancelled) return;
    this.lastResult = result;
    if (result.ok) {
      this.cancel();
      this.options.onReady();
      return;
    }
    this.wait();
  }
}
