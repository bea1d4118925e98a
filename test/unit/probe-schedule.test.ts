/**
 * ReadyProbing's schedule beyond the doubling back-off (service-policy.test.ts): the dense start,
 * probes after activity of the session, and probes the runtime holds back itself (the machine's
 * probe shell), all on a FakeClock, to the millisecond.
 */
import { describe, expect, it } from 'vitest';
import { ReadyProbing, type ProbeTimings } from '../../src/engine/services/ready-probing.js';
import type { ProbeResult, ProbeRun } from '../../src/runtime/runtime.js';
import { FakeClock } from '../helpers/fake-clock.js';

const NOT_YET: ProbeResult = { ok: false, output: '', code: 1 };
const READY: ProbeResult = { ok: true, output: '', code: 0 };

interface Probed {
  readonly at: number;
  /** How long the runtime was asked to hold it back (probeLater). */
  readonly delay?: number;
  /** Whether the runtime was told the pause is at its ceiling (it may repeat the probe). */
  readonly steady?: boolean;
  woken?: number;
  killed?: number;
}

function probing(timings: Partial<ProbeTimings>, options: { later?: boolean; durationMs?: number } = {}) {
  const clock = new FakeClock();
  const probes: Probed[] = [];
  let answer = NOT_YET;
  let ready = false;
  const finish = (resolve: (result: ProbeResult) => void, afterMs: number): void => {
    clock.setTimeout(() => resolve(answer), afterMs);
  };
  const run = (delay?: number, steady?: boolean): ProbeRun => {
    const probe: Probed = { at: clock.elapsed + (delay ?? 0), ...(delay !== undefined ? { delay } : {}), ...(steady !== undefined ? { steady } : {}) };
    probes.push(probe);
    let resolveResult!: (result: ProbeResult) => void;
    const result = new Promise<ProbeResult>((resolve) => (resolveResult = resolve));
    let pending = clock.setTimeout(() => finish(resolveResult, options.durationMs ?? 0), delay ?? 0);
    return {
      result,
      kill: () => {
        probe.killed = clock.elapsed;
        resolveResult({ ok: false, output: '', code: null });
      },
      wake: () => {
        if (delay === undefined || probe.woken !== undefined) return;
        probe.woken = clock.elapsed;
        clock.clearTimeout(pending);
        pending = clock.setTimeout(() => finish(resolveResult, options.durationMs ?? 0), 0);
      },
    };
  };
  const ready$ = new ReadyProbing({
    command: 'check',
    run: () => run(),
    ...(options.later === true ? { runLater: (delayMs: number, steady: boolean) => run(delayMs, steady) } : {}),
    timings: { initialIntervalMs: 10, maxIntervalMs: 100, probeTimeoutMs: 1000, ...timings },
    clock,
    readinessTimeoutMs: 0,
    onReady: () => (ready = true),
    onTimeout: () => {},
  });
  return {
    clock,
    probes,
    probing: ready$,
    answer: (result: ProbeResult) => (answer = result),
    get ready() {
      return ready;
    },
  };
}

describe('ready probing: the schedule', () => {
  it('keeps the first pause for denseMs, then doubles it to the ceiling', async () => {
    const t = probing({ denseMs: 50 });
    await t.clock.advance(400);
    // Every 10 ms until 50; from there the pause doubles from 10 to the ceiling: 10, 20, 40, 80, 100, 100.
    expect(t.probes.map((probe) => probe.at)).toEqual([10, 20, 30, 40, 50, 60, 80, 120, 200, 300, 400]);
  });

  it('probes activityDelayMs after activity, never sooner than activityGapMs after the last probe, and not before the first', async () => {
    const t = probing({ initialIntervalMs: 20, maxIntervalMs: 10_000, activityDelayMs: 5, activityGapMs: 50 });
    // Activity before the first probe is the service's own start: ignored.
    t.probing.wake();
    await t.clock.advance(20);
    expect(t.probes.map((probe) => probe.at)).toEqual([20]);
    // At 25 the gap would put it at 70, after the probe due at 60 anyway.
    await t.clock.advance(5);
    t.probing.wake();
    await t.clock.advance(45);
    expect(t.probes.map((probe) => probe.at)).toEqual([20, 60]);
    // At 70 the next is due at 140 (pause 80): the gap brings it to 110.
    t.probing.wake();
    await t.clock.advance(40);
    expect(t.probes.map((probe) => probe.at)).toEqual([20, 60, 110]);
    // The next is due at 270 (pause 160); activity at 210, long after the last: 5 ms later.
    await t.clock.advance(100);
    t.probing.wake();
    t.answer(READY);
    await t.clock.advance(5);
    expect(t.probes.map((probe) => probe.at)).toEqual([20, 60, 110, 215]);
    expect(t.ready).toBe(true);
    await t.clock.advance(10_000);
    expect(t.probes).toHaveLength(4);
  });

  it('activity while a probe runs: another probe once it has ended (after the gap)', async () => {
    const t = probing({ initialIntervalMs: 20, maxIntervalMs: 10_000, activityDelayMs: 5, activityGapMs: 30 }, { durationMs: 100 });
    await t.clock.advance(20);
    await t.clock.advance(50);
    t.probing.wake();
    await t.clock.advance(200);
    // The first ran 20-120; the next 30 ms after it ended instead of 40 ms (its pause).
    expect(t.probes.map((probe) => probe.at)).toEqual([20, 150]);
  });

  it('probes after the first are held back by the runtime when it can: asked with the pause, woken by activity', async () => {
    const t = probing({ initialIntervalMs: 20, maxIntervalMs: 80, activityDelayMs: 5, activityGapMs: 30 }, { later: true });
    await t.clock.advance(200);
    // The first is the daemon's own (after a timer); the rest are handed the pause: 40, 80, 80.
    expect(t.probes.map((probe) => [probe.at, probe.delay, probe.steady])).toEqual([
      [20, undefined, undefined],
      [60, 40, false],
      [140, 80, true],
      [220, 80, true],
    ]);
    // Activity 10 ms after the probe at 140: the held-back one (due at 220) is woken at 170 (the gap).
    const t2 = probing({ initialIntervalMs: 20, maxIntervalMs: 80, activityDelayMs: 5, activityGapMs: 30 }, { later: true });
    await t2.clock.advance(150);
    t2.probing.wake();
    await t2.clock.advance(30);
    expect(t2.probes[3]).toMatchObject({ delay: 80, woken: 170 });
    // Woken at 170, it ended then; the next is handed its pause.
    expect(t2.probes[4]).toMatchObject({ at: 250, delay: 80 });
    // Cancelling kills the one held back.
    t2.probing.cancel();
    expect(t2.probes.at(-1)!.killed).toBe(t2.clock.elapsed);
  });

  it('a probe held back by the runtime is bounded from its pause on', async () => {
    const t = probing({ initialIntervalMs: 20, maxIntervalMs: 10_000, probeTimeoutMs: 1000 }, { later: true, durationMs: 5000 });
    await t.clock.advance(1020);
    // The first (at 20) is killed at its bound; the second is asked for then, with a pause of 40:
    // it is killed 40 + 1000 ms later, not 1000 ms after it was asked for.
    expect(t.probes[0]!.killed).toBe(1020);
    await t.clock.advance(1039);
    expect(t.probes[1]!.killed).toBeUndefined();
    await t.clock.advance(1);
    expect(t.probes[1]!.killed).toBe(2060);
    expect(t.probing.waiting.lastProbe).toMatchObject({ exitCode: null, killedAtBound: true });
  });
  it('a run that repeats its probes in the runtime counts each, is bounded by its span, and each pause can be woken', async () => {
    const clock = new FakeClock();
    const runs: Array<{ at: number; delay: number; steady: boolean; woken: number[]; killed?: number; answer: (result: ProbeResult) => void }> = [];
    const probing = new ReadyProbing({
      command: 'test -f ready',
      run: () => ({ result: new Promise((resolve) => clock.setTimeout(() => resolve(NOT_YET), 0)), kill: () => {} }),
      runLater: (delayMs, steady) => {
        let answer!: (result: ProbeResult) => void;
        const result = new Promise<ProbeResult>((resolve) => (answer = resolve));
        const entry: (typeof runs)[number] = { at: clock.elapsed, delay: delayMs, steady, woken: [], answer };
        runs.push(entry);
        return {
          result,
          spanMs: delayMs * 10,
          wake: () => void entry.woken.push(clock.elapsed),
          kill: () => {
            entry.killed = clock.elapsed;
            answer({ ok: false, output: '', code: null });
          },
        };
      },
      timings: { initialIntervalMs: 100, maxIntervalMs: 100, probeTimeoutMs: 1000, activityDelayMs: 5, activityGapMs: 50 },
      clock,
      readinessTimeoutMs: 0,
      onReady: () => {},
      onTimeout: () => {},
    });
    await clock.advance(100);
    // The pause is at its ceiling: the runtime may repeat the probe.
    expect(runs.map((run) => [run.at, run.delay, run.steady])).toEqual([[100, 100, true]]);
    // Activity during its span, after its first pause too: each wake reaches it, 50 ms apart at least.
    await clock.advance(150);
    probing.wake();
    await clock.advance(10);
    probing.wake();
    await clock.advance(100);
    expect(runs[0]!.woken).toEqual([255, 305]);
    // Ten probes answered at once count ten.
    runs[0]!.answer({ ...NOT_YET, probes: 10 });
    await clock.advance(0);
    expect(probing.waiting.probes).toBe(11);
    // A run that never answers is killed at its span (10 pauses) and the probe bound, not before.
    expect(runs).toHaveLength(2);
    const second = runs[1]!.at;
    await clock.advance(100 * 10 + 1000 - 1);
    expect(runs[1]!.killed).toBeUndefined();
    await clock.advance(1);
    expect(runs[1]!.killed).toBe(second + 2000);
    probing.cancel();
  });
});
