/**
 * The executions of a serve-only daemon (a control plane): they run on its runner, which reports
 * their status (no version: each report that changes it gets this daemon's next statusVersion; one
 * that changes nothing is a no-op). A stop asked here is a change of the spec, for the runner to
 * follow.
 */
import { isFinished, NEW_EXECUTION, transitionExecution, type ExecutionState } from '../../domain/execution-lifecycle.js';
import type { TaskExecution, TaskExecutionStatusReport } from '../../domain/schema.js';
import type { StoredExecution, Store } from '../../store/store.js';
import type { StateLayout } from '../../domain/state-layout.js';
import type { ExecutionLogSource } from '../log-source.js';
import { executionLogSource } from './execution-log.js';
import type { ExecutionKeeper, ExecutionKeeperContext, ExecutionKeepers } from './execution-keeper.js';
import { utcNow } from '../../domain/utc-time.js';

export class ReportedExecution implements ExecutionKeeper {
  private inserted: boolean;

  constructor(
    private readonly store: Store,
    private readonly layout: StateLayout,
    private readonly context: ExecutionKeeperContext,
    public execution: TaskExecution,
    readonly taskReference: string,
    private state: ExecutionState,
    inserted: boolean,
  ) {
    this.inserted = inserted;
  }

  get finished(): boolean {
    return isFinished(this.state);
  }

  /** The execution waits for its runner, which reports its progress. */
  begin(): void {
    this.save();
  }

  stop(): void {
    if (this.finished || this.execution.spec.desiredPhase === 'TASK_EXECUTION_PHASE_STOPPED') return;
    this.execution = { ...this.execution, spec: { ...this.execution.spec, desiredPhase: 'TASK_EXECUTION_PHASE_STOPPED' } };
    this.save();
    this.context.updated(this.execution);
  }

  report(report: TaskExecutionStatusReport): void {
    const before = this.state;
    this.state = transitionExecution([], before, { type: 'Reported', status: { ...report, steps: report.steps ?? [] } }).state;
    const { statusVersion: _version, ...current } = this.execution.status;
    if (this.state === before || JSON.stringify(recordedStatus(this.state)) === JSON.stringify(current)) {
      this.state = before;
      return;
    }
    const statusVersion = this.store.nextVersion();
    const now = utcNow();
    const metadata = { ...this.execution.metadata };
    if (report.phase !== 'TASK_EXECUTION_PHASE_PENDING') metadata.startedAt ??= now;
    if (this.finished) metadata.completedAt ??= now;
    this.execution = { ...this.execution, metadata, status: { ...recordedStatus(this.state), statusVersion } };
    this.save();
    this.context.changed(this.execution);
    if (this.finished && !isFinished(before)) this.context.finished();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  persist(): void {
    this.save();
    this.context.changed(this.execution);
  }

  /** The logs stay on the runner: what is here is at most empty. */
  logSource(): ExecutionLogSource {
    return executionLogSource(this.layout, {
      execution: () => this.execution,
      finished: () => this.finished,
      live: () => false,
      times: new Map(),
      secrets: () => [],
    });
  }

  private save(): void {
    this.store.executions.save({ execution: this.execution, taskReference: this.taskReference, processes: {} }, this.finished, !this.inserted);
    this.inserted = true;
  }
}

function recordedStatus(state: ExecutionState): Omit<TaskExecution['status'], 'statusVersion'> {
  if (state.phase !== 'recorded') throw new Error('A reported execution is always recorded');
  const { status } = state;
  return {
    phase: status.phase,
    ...(status.failureMessage !== undefined && status.failureMessage !== '' ? { failureMessage: status.failureMessage } : {}),
    ...(status.logUrl !== undefined && status.logUrl !== '' ? { logUrl: status.logUrl } : {}),
    steps: status.steps.map((step) => ({
      id: step.id,
      phase: step.phase,
      ...(step.failureMessage !== undefined && step.failureMessage !== '' ? { failureMessage: step.failureMessage } : {}),
      ...(step.output !== undefined && Object.keys(step.output).length > 0 ? { output: step.output } : {}),
    })),
  };
}

export class ReportedExecutions implements ExecutionKeepers {
  constructor(
    private readonly store: Store,
    private readonly layout: StateLayout,
  ) {}

  create(context: ExecutionKeeperContext, execution: TaskExecution, taskReference: string): ExecutionKeeper {
    return new ReportedExecution(this.store, this.layout, context, execution, taskReference, NEW_EXECUTION, false);
  }

  /** Nothing ran here: the stored status is the last one a runner reported. */
  async restore(context: ExecutionKeeperContext, stored: StoredExecution): Promise<ExecutionKeeper> {
    const { statusVersion: _version, ...status } = stored.execution.status;
    const state = transitionExecution([], NEW_EXECUTION, { type: 'Reported', status });
    return new ReportedExecution(this.store, this.layout, context, stored.execution, stored.taskReference, state.state, true);
  }
}
