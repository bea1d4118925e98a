/**
 * The engine as the daemon wires it (`daemonRole`), with a FakeRuntime and a FakeClock in place
 * of processes and time, and a real store: the unit tier's subject. Nothing it does sleeps.
 */
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { daemonRole } from '../../src/app/daemon-role.js';
import { StateLayout } from '../../src/domain/state-layout.js';
import type { Service } from '../../src/domain/schema.js';
import { ExecutionEngine } from '../../src/engine/executions/execution-engine.js';
import { ServiceEngine } from '../../src/engine/services/service-engine.js';
import type { EngineSettings } from '../../src/engine/settings.js';
import { TaskEngine } from '../../src/engine/tasks/task-engine.js';
import { LogRotator } from '../../src/runtime/log-rotation.js';
import { Store } from '../../src/store/store.js';
import { memoryLogger } from './daemon.js';
import { FakeClock } from './fake-clock.js';
import { FakeRuntime } from './fake-runtime.js';
import { tempDir } from './temp.js';

export interface PolicyEngine {
  readonly clock: FakeClock;
  readonly runtime: FakeRuntime;
  readonly store: Store;
  readonly services: ServiceEngine;
  readonly tasks: TaskEngine;
  readonly executions: ExecutionEngine;
  readonly settings: EngineSettings;
  /** The service's phase now. */
  phase(id: string): string | undefined;
  /** Every phase the service went through, in order (from its status events). */
  phases(id: string): string[];
  /** The same engine on the same store after a "restart" (the runtime keeps its survivors). */
  restart(): Promise<PolicyEngine>;
}

export const POLICY_TIMINGS = {
  stopTimeoutMs: 2000,
  taskStopTimeoutMs: 1000,
  readinessTimeoutMs: 0,
  probe: { initialIntervalMs: 5, maxIntervalMs: 50, probeTimeoutMs: 400 },
} as const;

export async function policyEngine(
  overrides: Partial<Pick<EngineSettings, 'stopTimeoutMs' | 'taskStopTimeoutMs' | 'readinessTimeoutMs'>> = {},
  reuse?: { root: string; clock: FakeClock; runtime: FakeRuntime },
): Promise<PolicyEngine> {
  const root = reuse?.root ?? tempDir();
  const clock = reuse?.clock ?? new FakeClock();
  const runtime = reuse?.runtime ?? new FakeRuntime(clock);
  const store = new Store(join(root, 'state', 'store.db'));
  const settings: EngineSettings = {
    workspace: root,
    layout: new StateLayout(join(root, 'state')),
    maxExecutions: 1000,
    commandEnv: { GITPOD_ENVIRONMENT_ID: 'env' },
    ...POLICY_TIMINGS,
    ...overrides,
  };
  const log = memoryLogger().log;
  const parts = { settings, clock, store, log, logUrl: (id: string) => `http://tend.test/logs/${id}` };
  const role = daemonRole('executing', { parts, instanceId: 'test-instance', baseEnv: {}, shell: '/bin/sh', logs: new LogRotator(), runtime });
  const services = new ServiceEngine({ store, log, environmentId: 'env', keepers: role.services });
  const tasks = new TaskEngine({ store, services, log, environmentId: 'env' });
  const executions = new ExecutionEngine({ store, tasks, layout: settings.layout, environmentId: 'env', maxExecutions: 1000, logUrl: parts.logUrl, keepers: role.executions(services) });
  const seen = new Map<string, string[]>();
  services.on('change', (kind, service: Service) => {
    if (kind !== 'status') return;
    const list = seen.get(service.id) ?? [];
    if (list.at(-1) !== service.status.phase) list.push(service.status.phase ?? '');
    seen.set(service.id, list);
  });
  await services.load();
  tasks.load();
  await executions.load();
  await role.recovered();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await clock.settle();
    role.services.close();
    services.removeAllListeners();
    store.close();
  };
  onTestFinished(close);
  return {
    clock,
    runtime,
    store,
    services,
    tasks,
    executions,
    settings,
    phase: (id) => services.get(id).status.phase,
    phases: (id) => seen.get(id) ?? [],
    restart: async () => {
      await close();
      return policyEngine(overrides, { root, clock, runtime });
    },
  };
}
