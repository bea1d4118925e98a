/**
 * When things happened, as this daemon saw them: since when each service is in its phase (its
 * uptime while RUNNING) and when each step of an execution started and ended. The API's resources
 * carry no such times (a service's status has none, a step's neither), so the dashboard keeps its
 * own from the engines' change events. Only what happened after `observe()` is known: a service
 * that a restarted daemon re-adopted has no entry until its phase changes again, and the page
 * says so rather than count from the restart.
 */
import type { Clock } from '../domain/clock.js';
import type { ExecutionEngine, ExecutionEngineEvents } from '../engine/executions/execution-engine.js';
import type { ServiceEngine, ServiceEngineEvents } from '../engine/services/service-engine.js';

export interface PhaseSince {
  readonly phase: string;
  /** ms since the epoch; null: it was in this phase before `observe()`. */
  readonly since: number | null;
}

/** ms since the epoch; null: it happened before `observe()`; absent: not yet (a step that never ran has no start). */
export interface StepTimes {
  readonly startedAt?: number | null;
  readonly endedAt?: number | null;
}

const STEP_ENDED = new Set(['TASK_EXECUTION_PHASE_SUCCEEDED', 'TASK_EXECUTION_PHASE_FAILED', 'TASK_EXECUTION_PHASE_STOPPED']);

export class ObservedTimes {
  private readonly services = new Map<string, PhaseSince>();
  private readonly executions = new Map<string, Record<string, StepTimes>>();

  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  /** From now on, every phase change is timed; returns the function that stops it. */
  observe(services: ServiceEngine, executions: ExecutionEngine): () => void {
    for (const service of services.all()) this.services.set(service.id, { phase: service.status.phase ?? 'SERVICE_PHASE_UNSPECIFIED', since: null });
    const onService = (...[kind, service]: ServiceEngineEvents['change']): void => {
      if (kind === 'delete') return void this.services.delete(service.id);
      const phase = service.status.phase ?? 'SERVICE_PHASE_UNSPECIFIED';
      if (this.services.get(service.id)?.phase !== phase) this.services.set(service.id, { phase, since: this.clock.now() });
    };
    const onExecution = (...[kind, execution]: ExecutionEngineEvents['execution']): void => {
      if (kind === 'delete') return void this.executions.delete(execution.id);
      // An execution first seen by a change that is not its creation is older than `observe()`.
      const known = this.executions.get(execution.id);
      const now = known === undefined && kind !== 'create' ? null : this.clock.now();
      const steps = { ...known };
      for (const step of execution.status.steps) {
        const times = steps[step.id] ?? {};
        if (step.phase === 'TASK_EXECUTION_PHASE_RUNNING' && times.startedAt === undefined) steps[step.id] = { startedAt: now };
        else if (STEP_ENDED.has(step.phase) && times.endedAt === undefined) steps[step.id] = { ...times, endedAt: now };
      }
      this.executions.set(execution.id, steps);
    };
    // First of all listeners: the times are recorded before the event streams hear of the change.
    services.prependListener('change', onService);
    executions.prependListener('execution', onExecution);
    return () => {
      services.off('change', onService);
      executions.off('execution', onExecution);
    };
  }

  ofService(id: string): PhaseSince | undefined {
    return this.services.get(id);
  }

  ofExecution(id: string): Readonly<Record<string, StepTimes>> | undefined {
    return this.executions.get(id);
  }

  /** Everything known, for a page that has just connected. */
  snapshot(): { services: Record<string, PhaseSince>; executions: Record<string, Record<string, StepTimes>> } {
    return { services: Object.fromEntries(this.services), executions: Object.fromEntries(this.executions) };
  }
}
