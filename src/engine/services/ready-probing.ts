/**
 * Runs a service's `ready` command until it exits 0. Probes never overlap; a probe may run as
 * long as it needs (`sleep 15 && pg_isready`): only a generous per-probe bound (a setting,
 * 2 minutes by default) and the readiness timeout end it. The pause between probes stays short
 * for a while (`denseMs`: most services get ready in their first second), then doubles up to a
 * ceiling of 100 ms, so that a ready command that starts passing at any time is seen within about
 * 100 ms; the runtime makes the probes after the first cheap (a subshell of one shell per session
 * on the machine). When the session shows activity (its log grows: servers say when they
 * listen), it is probed a few milliseconds later, at most once per `activityGapMs`. While it
 * waits, `waiting` says since when, how many probes ran and what the last one said. All of it
 * on the injected clock.
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
  /** For this long after probing began the pause stays at `initialIntervalMs`; then it doubles. Default 0. */
  readonly denseMs?: number;
  /** After activity of the session a probe comes this soon, and never sooner than `activityGapMs` after the last one. */
  readonly activityDelayMs?: number;
  readonly activityGapMs?: number;
}

export const DEFAULT_PROBE_TIMINGS: ProbeTimings = {
  initialIntervalMs: 20,
  maxIntervalMs: 100,
  probeTimeoutMs: 120_000,
  denseMs: 400,
  activityDelayMs: 5,
  activityGapMs: 50,
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
  /**
   * A probe that the runtime itself begins `delayMs` from now (or when woken), where it can wait
   * more cheaply than the daemon; undefined: not possible, `run` after a timer of ours.
   */
  readonly runLater?: (delayMs: number, steady: boolean) => ProbeRun | undefined;
  readonly timings: ProbeTimings;
  readonly clock: Clock;
  /** Still not ready after this long: `onTimeout`, with a message naming the last probe's output. 0: never. */
  readonly readinessTimeoutMs: number;
  readonly onReady: () => void;
  readonly onTimeout: (message: string) => void;
  /** A probe ended with another exit code or output than the one before it (the first one too). */
  readonly onOutcomeChanged?: (outcome: ProbeOutcome) => void;
  /** Probing ended (ready, cancelled, timed out): no more probes will run. */
  readonly onEnd?: () => void;
}

export class ReadyProbing {
  private cancelled = false;
  private pause: number;
  private timer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private current: ProbeRun | undefined;
  /** The current probe waits (in the runtime) until this clock time; 0 once it may have begun. */
  private delayedUntil = 0;
  /** What the last probe that ended printed (for the readiness timeout's message). */
  lastResult: ProbeResult | null = null;
  private lastOutcome: ProbeOutcome | null = null;
  private probes = 0;
  private readonly since: number;
  /** When the scheduled probe runs (clock time). */
  private nextAt = Infinity;
  /** When the last probe ended; -Infinity before the first. */
  private lastEnded = -Infinity;
  /** When a probe held back by the runtime was last woken. */
  private lastWoken = -Infinity;
  /** The current run repeats its probes in the runtime (each of its pauses may be woken). */
  private repeating = false;
  /** Activity while a probe ran: probe again once it has ended. */
  private woken = false;
  /** The first probe has begun (activity before it is the service's own start). */
  private begun = false;

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
    if (this.cancelled) return;
    this.cancelled = true;
    this.options.clock.clearTimeout(this.timer);
    this.options.clock.clearTimeout(this.deadline);
    this.current?.kill();
    this.options.onEnd?.();
  }

  /**
   * The session showed activity: probe `activityDelayMs` from now, or once `activityGapMs` have
   * passed since the last probe, unless the next one comes sooner anyway. Not before the first
   * probe (which waits for the service's own start).
   */
  wake(): void {
    if (this.cancelled || !this.begun) return;
    const { clock, timings } = this.options;
    const now = clock.now();
    if (this.current !== undefined && (this.delayedUntil <= now || this.current.wake === undefined)) {
      this.woken = true;
      return;
    }
    const gap = timings.activityGapMs ?? 0;
    const at = Math.max(now + (timings.activityDelayMs ?? 0), this.lastEnded + gap, this.lastWoken + gap);
    if (at >= this.nextAt) return;
    clock.clearTimeout(this.timer);
    this.nextAt = at;
    const delayed = this.current;
    // A probe the runtime holds back is told to begin; else a probe of our own begins then.
    this.timer = clock.setTimeout(() => {
      if (delayed === undefined) return void this.probeOnce();
      // A run that repeats its probes is held back again after this one: it can be woken again.
      if (this.repeating) this.nextAt = Infinity;
      else this.delayedUntil = 0;
      this.lastWoken = clock.now();
      delayed.wake?.();
    }, at - now);
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
    const dense = clock.now() - this.since < (timings.denseMs ?? 0);
    const pause = dense ? timings.initialIntervalMs : this.pause;
    if (!dense) this.pause = Math.min(this.pause * 2, timings.maxIntervalMs);
    const now = clock.now();
    this.nextAt = now + pause;
    // Where the runtime can wait for the pause itself (a probe shell), the daemon does not wake for it.
    // At the ceiling the runtime may repeat it with the same pause (nothing doubles any more).
    const steady = !dense && pause >= timings.maxIntervalMs;
    const later = this.probes > 0 ? this.options.runLater?.(pause, steady) : undefined;
    if (later !== undefined) return void this.probeOnce(later, pause);
    this.timer = clock.setTimeout(() => void this.probeOnce(), pause);
  }

  private async probeOnce(run?: ProbeRun, delayMs = 0): Promise<void> {
    if (this.cancelled) return;
    const { clock, timings } = this.options;
    const probe = run ?? this.options.run();
    this.begun = true;
    const span = Math.max(delayMs, probe.spanMs ?? 0);
    this.repeating = span > delayMs;
    // When the next probe comes is known only for a single one; a repeating run may be woken any time.
    this.nextAt = delayMs > 0 && !this.repeating ? clock.now() + delayMs : Infinity;
    this.delayedUntil = delayMs > 0 ? clock.now() + span : 0;
    this.current = probe;
    let killedAtBound = false;
    const bound = clock.setTimeout(() => {
      killedAtBound = true;
      probe.kill();
    }, span + timings.probeTimeoutMs);
    const result = await probe.result;
    clock.clearTimeout(bound);
    clock.clearTimeout(this.timer);
    this.current = undefined;
    this.repeating = false;
    this.nextAt = Infinity;
    this.lastEnded = clock.now();
    if (this.cancelled) return;
    this.lastResult = killedAtBound ? { ...result, output: `${result.output}${boundNote(timings.probeTimeoutMs)}` } : result;
    this.recordOutcome({ exitCode: result.code, output: this.lastResult.output, killedAtBound, endedAt: clock.now() }, result.probes ?? 1);
    if (result.ok) {
      this.cancel();
      this.options.onReady();
      return;
    }
    this.wait();
    if (this.woken) {
      this.woken = false;
      this.wake();
    }
  }

  private recordOutcome(outcome: ProbeOutcome, probes: number): void {
    const previous = this.lastOutcome;
    this.probes += probes;
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
  let quiet = (): void => {};
  const probing = new ReadyProbing({
    command,
    run: () => session.probe(command),
    runLater: (delayMs, steady) => session.probeLater?.(command, delayMs, steady),
    timings: parts.settings.probe,
    clock: parts.clock,
    readinessTimeoutMs: readinessTimeoutMs(spec.readinessTimeout, parts.settings.readinessTimeoutMs),
    ...handlers,
    onEnd: () => {
      quiet();
      session.endProbing?.();
    },
  });
  quiet = session.onActivity?.(() => probing.wake()) ?? quiet;
  return probing;
}
