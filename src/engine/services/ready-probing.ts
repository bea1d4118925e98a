/**
 * Runs a service's `ready` command until it exits 0. Probes never overlap; a probe may run as
 * long as it needs (`sleep 15 && pg_isready`): only a generous per-probe bound (a setting,
 * 2 minutes by default) and the readiness timeout end it. The pause between probes starts short
 * and doubles up to a ceiling, so a fast service is seen ready within tens of milliseconds and a
 * slow one costs little CPU. While it waits, `waiting` says since when, how many probes ran and
 * what the last one said. All of it on the injected clock.
 */
import type { Clock, TimerHandle } from '../../domain/clock.js';
import { formatDuration } from '../../domain/duration.js';
import type { ServiceSpec } from '../../domain/schema.js';
import { readinessTimeoutMs } from '../../domain/spec-rules.js';
import type { ProbeResult, ProbeRun, Session } from '../../runtime/runtime.js';
import type { EngineSettings } from '../settings.js';

export interface ProbeTimings {
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly probeTimeoutMs: number;
}

export const DEFAULT_PROBE_TIMINGS: ProbeTimings = {
  initialIntervalMs: 20,
  maxIntervalMs: 1000,
  probeTimeoutMs: 120_000,
};

/** The last probe that ended. */
export interface ProbeOutcome {
  /** Its exit code; null when it had none (killed). */
  readonly exitCode: number | null;
  /** The last few KiB it printed. */
  readonly output: string;
  /** Killed at the per-probe bound. */
  readonly killedAtBound: boolean;
  /** Milliseconds since the epoch, on the clock. */
  readonly endedAt: number;
}

/** What a STARTING service waits for, as far as its probes tell. */
export interface ReadinessWait {
  readonly readyCommand: string;
  /** Milliseconds since the epoch: when probing began. */
  readonly since: number;
  /** Probes that ended so far. */
  readonly probes: number;
  readonly lastProbe: ProbeOutcome | null;
  /** What ends the wait when no probe passes; 0: nothing. */
  readonly readinessTimeoutMs: number;
}

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
  /** A probe ended with another exit code or output than the one before it (the first one too). */
  readonly onOutcomeChanged?: (outcome: ProbeOutcome) => void;
}

export class ReadyProbing {
  private cancelled = false;
  private pause: number;
  private timer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private current: ProbeRun | undefined;
  /** What the last probe that ended printed (for the readiness timeout's message). */
  lastResult: ProbeResult | null = null;
  private lastOutcome: ProbeOutcome | null = null;
  private probes = 0;
  private readonly since: number;

  constructor(private readonly options: ProbingOptions) {
    this.pause = options.timings.initialIntervalMs;
    this.since = options.clock.now();
    const timeoutMs = options.readinessTimeoutMs;
    if (timeoutMs > 0) this.deadline = options.clock.setTimeout(() => this.timedOut(timeoutMs), timeoutMs);
    // The first probe waits one interval: a probe at the instant of the spawn only races the
    // service's own start and fails, costing a process for nothing.
    this.wait();
  }

  get waiting(): ReadinessWait {
    const { command, readinessTimeoutMs } = this.options;
    return { readyCommand: command, since: this.since, probes: this.probes, lastProbe: this.lastOutcome, readinessTimeoutMs };
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
    let killedAtBound = false;
    const bound = clock.setTimeout(() => {
      killedAtBound = true;
      probe.kill();
    }, timings.probeTimeoutMs);
    const result = await probe.result;
    clock.clearTimeout(bound);
    this.current = undefined;
    if (this.cancelled) return;
    this.lastResult = killedAtBound ? { ...result, output: `${result.output}${boundNote(timings.probeTimeoutMs)}` } : result;
    this.recordOutcome({ exitCode: result.code, output: this.lastResult.output, killedAtBound, endedAt: clock.now() });
    if (result.ok) {
      this.cancel();
      this.options.onReady();
      return;
    }
    this.wait();
  }

  private recordOutcome(outcome: ProbeOutcome): void {
    const previous = this.lastOutcome;
    this.probes += 1;
    this.lastOutcome = outcome;
    if (previous === null || previous.exitCode !== outcome.exitCode || previous.output !== outcome.output) this.options.onOutcomeChanged?.(outcome);
  }
}

function boundNote(boundMs: number): string {
  return `\n(killed after ${formatDuration(boundMs)}: the bound of one probe, the daemon's --probe-timeout)`;
}

/** Probes a service's session with its spec's ready command and readiness timeout (else the daemon's). */
export function probeSession(
  spec: ServiceSpec,
  session: Session,
  parts: { readonly settings: EngineSettings; readonly clock: Clock },
  handlers: Pick<ProbingOptions, 'onReady' | 'onTimeout' | 'onOutcomeChanged'>,
): ReadyProbing {
  const command = spec.commands?.ready ?? '';
  return new ReadyProbing({
    command,
    run: () => session.probe(command),
    timings: parts.settings.probe,
    clock: parts.clock,
    readinessTimeoutMs: readinessTimeoutMs(spec.readinessTimeout, parts.settings.readinessTimeoutMs),
    ...handlers,
  });
}
