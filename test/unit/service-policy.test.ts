/**
 * The service controller's policy against a FakeRuntime, on a FakeClock: every timing of SPEC §2
 * (probe back-off, readiness timeout, stop timeout, stop command outcomes) without a process or
 * a sleep.
 */
import { describe, expect, it } from 'vitest';
import { ReadyProbing, type ProbeOutcome } from '../../src/engine/services/ready-probing.js';
import type { ProbeResult } from '../../src/runtime/runtime.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { policyEngine, POLICY_TIMINGS, type PolicyEngine } from '../helpers/policy-engine.js';

async function service(engine: PolicyEngine, commands: { start: string; ready?: string; stop?: string }, spec: Record<string, unknown> = {}): Promise<string> {
  const { id } = engine.services.create({ metadata: { reference: `s${engine.runtime.sessions.length}-${Math.random().toString(36).slice(2, 6)}` }, spec: { commands, ...spec } });
  return id;
}

describe('service policy (FakeRuntime, FakeClock)', () => {
  it('probes with a back-off that doubles from the initial interval to the ceiling, and is RUNNING when a probe passes', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve', ready: 'check' });
    engine.services.start(id);
    await engine.clock.settle();
    expect(engine.phase(id)).toBe('SERVICE_PHASE_STARTING');
    const session = engine.runtime.last();
    await engine.clock.advance(300);
    // 5, then +10, +20, +40, +50, +50, ... (initial 5 ms, ceiling 50 ms)
    expect(session.probes.map((probe) => probe.at)).toEqual([5, 15, 35, 75, 125, 175, 225, 275]);
    session.answer = () => ({ ok: true, output: '', code: 0 });
    await engine.clock.advance(50);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_RUNNING');
    expect(session.probes.at(-1)!.at).toBe(325);
    await engine.clock.advance(1000);
    expect(session.probes).toHaveLength(9);
  });

  it('a probe that outlives its bound is killed, and probing goes on', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve', ready: 'slow' });
    engine.services.start(id);
    await engine.clock.settle();
    const session = engine.runtime.last();
    session.answer = () => 'hang';
    await engine.clock.advance(5 + POLICY_TIMINGS.probe.probeTimeoutMs - 1);
    expect(session.probes).toHaveLength(1);
    session.answer = () => ({ ok: true, output: '', code: 0 });
    // Killed at its bound (405), the next probe 10 ms later passes.
    await engine.clock.advance(11);
    expect(session.probes.map((probe) => probe.at)).toEqual([5, 415]);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_RUNNING');
  });

  it('still STARTING when the readiness timeout expires: stopped by the stop rules, FAILED naming the timeout and the last probe output', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve', ready: 'check' }, { readinessTimeout: '300ms' });
    engine.services.start(id);
    await engine.clock.settle();
    const session = engine.runtime.last();
    session.answer = () => ({ ok: false, output: 'connection refused\n', code: 7 });
    await engine.clock.advance(299);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_STARTING');
    await engine.clock.advance(1);
    expect(session.actions).toEqual([{ what: 'SIGTERM', at: 300 }]);
    const failed = engine.services.get(id);
    expect(failed.status.phase).toBe('SERVICE_PHASE_FAILED');
    expect(failed.status.failureMessage).toBe('Service did not become ready within 300ms: ready command "check" never exited 0; its last output:\nconnection refused');
    expect(engine.phases(id)).toEqual(['SERVICE_PHASE_STARTING', 'SERVICE_PHASE_STOPPING', 'SERVICE_PHASE_FAILED']);
  });

  it('the daemon\'s readiness timeout applies when the spec has none', async () => {
    const engine = await policyEngine({ readinessTimeoutMs: 1000 });
    const id = await service(engine, { start: 'serve', ready: 'check' });
    engine.services.start(id);
    await engine.clock.advance(999);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_STARTING');
    await engine.clock.advance(1);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_FAILED');
  });

  it('without a stop command: SIGTERM, and SIGKILL only once the stop timeout has passed → STOPPED', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve' });
    engine.services.start(id);
    await engine.clock.settle();
    const session = engine.runtime.last();
    session.ignoresTerm = true;
    expect(engine.phase(id)).toBe('SERVICE_PHASE_RUNNING');
    engine.services.stop(id);
    await engine.clock.advance(POLICY_TIMINGS.stopTimeoutMs - 1);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_STOPPING');
    expect(session.actions.map((action) => action.what)).toEqual(['SIGTERM']);
    await engine.clock.advance(1);
    expect(session.actions).toEqual([
      { what: 'SIGTERM', at: 0 },
      { what: 'SIGKILL', at: POLICY_TIMINGS.stopTimeoutMs },
    ]);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_STOPPED');
  });

  it('with a stop command: exit 0 → STOPPED, non-zero → FAILED, past the timeout → both killed, FAILED', async () => {
    const engine = await policyEngine();
    const outcomes: Array<[ReturnType<PolicyEngine['runtime']['last']>['stopCommandExit'], string, string | undefined]> = [
      [{ code: 0, signal: null }, 'SERVICE_PHASE_STOPPED', undefined],
      [{ code: 3, signal: null }, 'SERVICE_PHASE_FAILED', 'Stop command "halt" exited with code 3; last output:\nstop output'],
      ['hang', 'SERVICE_PHASE_FAILED', 'Stop command "halt" did not exit within 2s; it was killed together with the service'],
    ];
    for (const [exit, phase, message] of outcomes) {
      const id = await service(engine, { start: 'serve', stop: 'halt' });
      engine.services.start(id);
      await engine.clock.settle();
      const session = engine.runtime.last();
      session.ignoresTerm = true;
      session.stopCommandExit = exit;
      engine.services.stop(id);
      await engine.clock.advance(POLICY_TIMINGS.stopTimeoutMs);
      const stopped = engine.services.get(id);
      expect(stopped.status.phase).toBe(phase);
      expect(stopped.status.failureMessage).toBe(message);
      expect(session.actions.map((action) => action.what)).toEqual(['stop command: halt', 'SIGKILL']);
    }
  });

  it('a start command that exits: code 0 → STOPPED, otherwise FAILED with the exit; never started again by itself', async () => {
    const engine = await policyEngine();
    const clean = await service(engine, { start: 'true' });
    engine.services.start(clean);
    await engine.clock.settle();
    engine.runtime.last().exit({ code: 0, signal: null });
    await engine.clock.settle();
    expect(engine.phase(clean)).toBe('SERVICE_PHASE_STOPPED');
    const broken = await service(engine, { start: 'exit 3' });
    engine.services.start(broken);
    await engine.clock.settle();
    engine.runtime.last().exit({ code: 3, signal: null });
    await engine.clock.advance(10_000);
    const failed = engine.services.get(broken);
    expect(failed.status.phase).toBe('SERVICE_PHASE_FAILED');
    expect(failed.status.failureMessage).toMatch(/^Service "s1-\w+": start command "exit 3" exited with code 3/);
    expect(engine.runtime.sessions).toHaveLength(2);
    expect(engine.runtime.sessions.map((session) => session.actions.map((action) => action.what))).toEqual([['killLeftovers'], ['killLeftovers']]);
  });

  it('a start the runtime refuses is FAILED with its reason', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve' });
    engine.runtime.failNext = 'Image "nope" is not present and cannot be pulled';
    engine.services.start(id);
    await engine.clock.settle();
    const failed = engine.services.get(id);
    expect(failed.status.phase).toBe('SERVICE_PHASE_FAILED');
    expect(failed.status.failureMessage).toMatch(/^Cannot start service "s0-\w+": Image "nope" is not present and cannot be pulled$/);
  });

  it('two services given the same spec.session run apart: their own run, and stopping one leaves the other RUNNING', async () => {
    const engine = await policyEngine();
    const a = await service(engine, { start: 'a' }, { session: 'shared', desiredPhase: 'SERVICE_PHASE_RUNNING' });
    const b = await service(engine, { start: 'b' }, { session: 'shared', desiredPhase: 'SERVICE_PHASE_RUNNING' });
    await engine.clock.settle();
    const [first, second] = engine.runtime.sessions;
    expect(first!.spec.runId).not.toBe(second!.spec.runId);
    expect(first!.spec.logPath).not.toBe(second!.spec.logPath);
    expect(first!.spec.env.GITPOD_OUTPUT).not.toBe(second!.spec.env.GITPOD_OUTPUT);
    engine.services.stop(a);
    await engine.clock.settle();
    expect(engine.phase(a)).toBe('SERVICE_PHASE_STOPPED');
    expect(engine.phase(b)).toBe('SERVICE_PHASE_RUNNING');
    expect(second!.actions).toEqual([]);
    expect(engine.services.get(a).status.session).toBe('shared');
    expect(engine.services.get(b).status.session).toBe('shared');
  });
});

describe('recovery policy (FakeRuntime)', () => {
  it('a running service whose session survived is adopted, not started again; its exit is followed', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve' });
    engine.services.start(id);
    await engine.clock.settle();
    const survivor = engine.runtime.last();
    engine.runtime.survivors.set(survivor.spec.runId, survivor);
    const before = engine.services.get(id);
    const again = await engine.restart();
    expect(again.phase(id)).toBe('SERVICE_PHASE_RUNNING');
    expect(again.services.get(id).status.session).toBe(before.status.session);
    expect(again.services.get(id).status.logUrl).toBe(before.status.logUrl);
    expect(again.runtime.sessions).toHaveLength(2);
    expect(again.runtime.sweeps).toBe(2);
    survivor.exit({ code: 1, signal: null });
    await again.clock.settle();
    expect(again.phase(id)).toBe('SERVICE_PHASE_FAILED');
  });

  it('a starting one is adopted and probed again; a lost one is FAILED saying why', async () => {
    const engine = await policyEngine();
    const starting = await service(engine, { start: 'serve', ready: 'check' });
    const lost = await service(engine, { start: 'serve' });
    engine.services.start(starting);
    engine.services.start(lost);
    await engine.clock.settle();
    const [survivor] = engine.runtime.sessions;
    engine.runtime.survivors.set(survivor!.spec.runId, survivor!);
    const again = await engine.restart();
    expect(again.phase(starting)).toBe('SERVICE_PHASE_STARTING');
    const adopted = again.runtime.last();
    adopted.answer = () => ({ ok: true, output: '', code: 0 });
    await again.clock.advance(5);
    expect(again.phase(starting)).toBe('SERVICE_PHASE_RUNNING');
    expect(adopted.probes).toHaveLength(1);
    expect(again.services.get(lost).status).toMatchObject({
      phase: 'SERVICE_PHASE_FAILED',
      failureMessage: 'The tend daemon stopped unexpectedly while the service was RUNNING; its process is gone',
    });
  });

  it('a probe may run up to its bound and no longer; the wait says since when, how many probes and what the last said, and a change of result is reported once', async () => {
    const clock = new FakeClock();
    const outcomes: ProbeOutcome[] = [];
    let answer: ProbeResult | 'hang' = { ok: false, output: 'no response\n', code: 2 };
    const runs: number[] = [];
    const probing = new ReadyProbing({
      command: 'sleep 15 && pg_isready',
      run: () => {
        runs.push(clock.elapsed);
        const now = answer;
        let kill = (): void => {};
        const result = now === 'hang' ? new Promise<ProbeResult>((resolve) => (kill = () => resolve({ ok: false, output: 'half a line', code: null }))) : Promise.resolve(now);
        return { result, kill: () => kill() };
      },
      timings: { initialIntervalMs: 10, maxIntervalMs: 40, probeTimeoutMs: 120_000 },
      clock,
      readinessTimeoutMs: 0,
      onReady: () => outcomes.push({ exitCode: 0, output: 'READY', killedAtBound: false, endedAt: clock.now() }),
      onTimeout: () => {},
      onOutcomeChanged: (outcome) => outcomes.push(outcome),
    });
    expect(probing.waiting).toEqual({ readyCommand: 'sleep 15 && pg_isready', since: clock.now(), probes: 0, lastProbe: null, readinessTimeoutMs: 0 });
    await clock.advance(200);
    // Five probes with the same answer: one change reported.
    expect(probing.waiting.probes).toBe(runs.length);
    expect(runs.length).toBeGreaterThan(4);
    expect(outcomes).toEqual([{ exitCode: 2, output: 'no response\n', killedAtBound: false, endedAt: clock.now() - 200 + 10 }]);
    // A probe that takes its time: still running at 2 minutes less 1 ms, killed at its bound.
    answer = 'hang';
    await clock.advance(40);
    const started = runs.at(-1)!;
    await clock.advance(started + 120_000 - 1 - clock.elapsed);
    expect(runs.at(-1)).toBe(started);
    expect(probing.waiting.lastProbe?.killedAtBound).toBe(false);
    await clock.advance(1);
    expect(probing.waiting.lastProbe).toEqual({
      exitCode: null,
      output: "half a line\n(killed after 2m: the bound of one probe, the daemon's --probe-timeout)",
      killedAtBound: true,
      endedAt: clock.now(),
    });
    expect(outcomes).toHaveLength(2);
    answer = { ok: true, output: 'accepting\n', code: 0 };
    await clock.advance(40);
    expect(outcomes.map((outcome) => outcome.exitCode)).toEqual([2, null, 0, 0]);
    expect(outcomes.at(-1)?.output).toBe('READY');
  });

  it('a daemon shutdown while a service is still launching waits for the launch, then stops what it started', async () => {
    const engine = await policyEngine();
    const id = await service(engine, { start: 'serve' });
    let release!: () => void;
    engine.runtime.startGate = new Promise((resolve) => (release = resolve));
    engine.services.start(id);
    await engine.clock.settle();
    expect(engine.runtime.sessions).toHaveLength(0);
    let done = false;
    const shutdown = engine.services.shutdown().then(() => (done = true));
    await engine.clock.settle();
    expect(done).toBe(false);
    release();
    await shutdown;
    const session = engine.runtime.last();
    expect(session.actions.map((action) => action.what)).toEqual(['SIGTERM']);
    expect(session.alive).toBe(false);
    expect(engine.phase(id)).toBe('SERVICE_PHASE_STOPPED');
  });
});
