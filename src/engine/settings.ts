import type { LogRotator } from '../runtime/log-rotation.js';
import type { ProbeTimings } from '../runtime/ready-probe.js';

/** Every timing is a setting in milliseconds so tests can use tens of milliseconds. */
export interface EngineSettings {
  /** Where commands run (their working directory). */
  readonly workspace: string;
  readonly stateDir: string;
  /** Grace between SIGTERM (or the stop command) and SIGKILL. */
  readonly stopTimeoutMs: number;
  readonly probe: ProbeTimings;
  /** Grace between SIGTERM and SIGKILL when a task execution is stopped. */
  readonly taskStopTimeoutMs: number;
  /** Finished executions kept in the history (older ones are pruned with their logs). */
  readonly maxExecutions: number;
  /** How long a service may stay STARTING; 0: no limit. */
  readonly readinessTimeoutMs: number;
  /** Keeps the log files of running commands under their size cap. */
  readonly logs: LogRotator;
  /**
   * False for a serve-only daemon (the control plane of runners): it keeps specs and serves the
   * API, runs nothing, and takes every status from the reports of its runner.
   */
  readonly execute: boolean;
  /** The environment every command inherits, before the spec's own variables. */
  readonly baseEnv: Readonly<Record<string, string>>;
}

export const DEFAULT_STOP_TIMEOUT_MS = 120_000;
export const DEFAULT_TASK_STOP_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_EXECUTIONS = 1000;
