/**
 * What the engine is made of: its settings (every timing in milliseconds, so tests can use tens
 * of milliseconds), and the parts it works through (the runtime, the clock, the store).
 */
import type { Logger } from '../domain/logger.js';
import type { Clock } from '../domain/clock.js';
import type { StateLayout } from '../domain/state-layout.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Store } from '../store/store.js';
import type { ProbeTimings } from './services/ready-probing.js';

export interface EngineSettings {
  /** Where commands run (their working directory). */
  readonly workspace: string;
  readonly layout: StateLayout;
  /** Grace between SIGTERM (or the stop command) and SIGKILL. */
  readonly stopTimeoutMs: number;
  readonly probe: ProbeTimings;
  /** Grace between SIGTERM and SIGKILL when a task execution is stopped. */
  readonly taskStopTimeoutMs: number;
  /** Finished executions kept in the history (older ones are pruned with their logs). */
  readonly maxExecutions: number;
  /** How long a service may stay STARTING; 0: no limit. */
  readonly readinessTimeoutMs: number;
  /** Variables tend gives every command before the spec's own (GITPOD_ENVIRONMENT_ID). */
  readonly commandEnv: Readonly<Record<string, string>>;
}

/** The parts a service controller or an execution runner works through. */
export interface EngineParts {
  readonly settings: EngineSettings;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly store: Store;
  readonly log: Logger;
  /** Where a log is served: `<daemon url>/logs/<log id>`. */
  readonly logUrl: (logId: string) => string;
}

export const DEFAULT_STOP_TIMEOUT_MS = 120_000;
export const DEFAULT_TASK_STOP_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_EXECUTIONS = 1000;
