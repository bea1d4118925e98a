/**
 * The seam between the execution engine (which makes executions and keeps the history) and what
 * keeps one execution's status: an `ExecutionRunner` on a daemon that runs its tasks, a
 * `ReportedExecution` on a serve-only daemon (its runner reports). The engine never asks which.
 */
import type { TaskExecution, TaskExecutionStatusReport } from '../../domain/schema.js';
import type { StoredExecution } from '../../store/store.js';
import type { Firing } from '../firing.js';
import type { ExecutionLogSource } from '../log-source.js';

export interface ExecutionKeeperContext {
  /** The status changed (already written to the store). */
  readonly changed: (execution: TaskExecution) => void;
  /** The spec changed (a stop was asked for) without a status change. */
  readonly updated: (execution: TaskExecution) => void;
  /** The execution has finished: the history's retention rule may prune. */
  readonly finished: () => void;
}

export interface ExecutionKeeper {
  readonly execution: TaskExecution;
  /** The main task's reference, kept with the execution (the history filters by it). */
  readonly taskReference: string;
  readonly finished: boolean;
  /** Persists the new execution; its run (if it runs here) begins on a later tick. */
  begin(): void;
  stop(): void;
  /** A runner's status report (UpdateTaskExecutionStatus). */
  report(report: TaskExecutionStatusReport): void;
  /** Daemon shutdown: resolves once nothing of it runs. */
  shutdown(): Promise<void>;
  /** Its steps' logs, in plan order. */
  logSource(): ExecutionLogSource;
  /** Writes it again (the disk refused it the first time). */
  persist(): void;
}

export interface ExecutionKeepers {
  create(context: ExecutionKeeperContext, execution: TaskExecution, taskReference: string, firing: Firing | undefined): ExecutionKeeper;
  restore(context: ExecutionKeeperContext, stored: StoredExecution): Promise<ExecutionKeeper>;
}
