/**
 * The other timings of SPEC.md on a FakeClock: the task stop timeout, the automations file's
 * watch debounce, and the reporter's back-off toward an unreachable control plane.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutomationsWatcher } from '../../src/app/automations-watcher.js';
import type { Automations } from '../../src/engine/automations.js';
import type { ExecutionEngine } from '../../src/engine/executions/execution-engine.js';
import type { ServiceEngine } from '../../src/engine/services/service-engine.js';
import { Store } from '../../src/store/store.js';
import { UpstreamError } from '../../src/upstream/connect-client.js';
import { StatusReporter } from '../../src/upstream/reporter.js';
import { memoryLogger } from '../helpers/daemon.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { policyEngine, POLICY_TIMINGS } from '../helpers/policy-engine.js';
import { tempDir } from '../helpers/temp.js';

describe('timings on a FakeClock', () => {
  it('a stopped execution: SIGTERM to its running step, SIGKILL once the task stop timeout passed, then STOPPED', async () => {
    const engine = await policyEngine();
    const task = engine.tasks.create({ metadata: { reference: 'build' }, spec: { command: 'make' } });
    const { id } = engine.executions.start(task.id);
    await engine.clock.settle();
    const step = engine.runtime.last();
    step.ignoresTerm = true;
    expect(engine.executions.get(id).status.phase).toBe('TASK_EXECUTION_PHASE_RUNNING');
    engine.executions.stop(id);
    await engine.clock.advance(POLICY_TIMINGS.taskStopTimeoutMs - 1);
    expect(step.actions.map((action) => action.what)).toEqual(['SIGTERM']);
    expect(engine.executions.get(id).status.phase).toBe('TASK_EXECUTION_PHASE_RUNNING');
    await engine.clock.advance(1);
    expect(step.actions.map((action) => [action.what, action.at])).toEqual([
      ['SIGTERM', 0],
      ['SIGKILL', POLICY_TIMINGS.taskStopTimeoutMs],
      ['killLeftovers', POLICY_TIMINGS.taskStopTimeoutMs],
    ]);
    const stopped = engine.executions.get(id);
    expect(stopped.status.phase).toBe('TASK_EXECUTION_PHASE_STOPPED');
    expect(stopped.status.steps).toEqual([{ id: task.id, phase: 'TASK_EXECUTION_PHASE_STOPPED' }]);
  });

  it('a burst of file events is one reload, a debounce after the last of them', async () => {
    const root = tempDir();
    const path = join(root, 'automations.yaml');
    writeFileSync(path, 'services: {}\n');
    const clock = new FakeClock();
    let applied = 0;
    const automations = { apply: async () => ((applied += 1), { updatedServiceIds: [], updatedTaskIds: [] }) } as unknown as Automations;
    const watcher = new AutomationsWatcher(path, automations, memoryLogger().log, 100, clock);
    for (const at of [0, 30, 60]) {
      await clock.advance(at - clock.elapsed);
      watcher.schedule();
    }
    await clock.advance(99);
    expect(watcher.status.reads).toBe(0);
    await clock.advance(1);
    expect(watcher.status.reads).toBe(1);
    expect(applied).toBe(1);
    await clock.advance(1000);
    expect(watcher.status.reads).toBe(1);
    await watcher.close();
  });

  it('reports to an unreachable control plane are retried with exponential back-off, and sent once it answers', async () => {
    const store = new Store(join(tempDir(), 'store.db'));
    const clock = new FakeClock();
    const services = new EventEmitter();
    const attempts: number[] = [];
    let failuresLeft = 3;
    const reporter = new StatusReporter({
      store,
      services: services as unknown as ServiceEngine,
      executions: new EventEmitter() as unknown as ExecutionEngine,
      transport: {
        reportService: async () => {
          attempts.push(clock.elapsed);
          if (failuresLeft-- > 0) throw new UpstreamError('connection refused', null, 'unavailable');
        },
        reportExecution: async () => {},
      },
      log: memoryLogger().log,
      backoff: { initialMs: 100, maxMs: 1000 },
      clock,
      random: () => 0.5,
    });
    services.emit('change', 'status', { id: 'svc', status: { phase: 'SERVICE_PHASE_RUNNING', statusVersion: '7' } });
    // A report goes out once its outbox row is on disk: that fsync is real I/O, not a timer.
    await new Promise((resolve) => setImmediate(resolve));
    await store.committed();
    // Pauses of between half and all of 100, 200, 400 ms: with this jitter 75, 150, 300.
    await clock.advance(1000);
    expect(attempts).toEqual([0, 75, 225, 525]);
    expect(store.outbox.depth()).toBe(0);
    expect(reporter.health()).toMatchObject({ reachable: true, lastError: null });
    await reporter.close();
    store.close();
  });
});
