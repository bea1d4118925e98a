/**
 * Task executions: StartTask makes one (with its plan), the history keeps every one until the
 * retention rule prunes it (the newest `maxExecutions` finished ones stay, with their logs), and
 * each execution's keeper runs it or takes its runner's reports.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { notFound } from '../../domain/errors.js';
import { NEW_EXECUTION } from '../../domain/execution-lifecycle.js';
import { executionStatus } from '../../domain/execution-status.js';
import { isTendId, type StateLayout } from '../../domain/state-layout.js';
import type { ListTaskExecutionsRequest, Subject, TaskExecution, TaskExecutionPhase, TaskExecutionStatusReport } from '../../domain/schema.js';
import { environmentSubject } from '../../domain/subjects.js';
import type { Store } from '../../store/store.js';
import type { Firing } from '../firing.js';
import type { ExecutionLogSource } from '../log-source.js';
import { paginate, type Page } from '../pagination.js';
import { requireId } from '../requests.js';
import type { TaskEngine } from '../tasks/task-engine.js';
import type { ExecutionKeeper, ExecutionKeeperContext, ExecutionKeepers } from './execution-keeper.js';
import { utcNow } from '../../domain/utc-time.js';

export interface ExecutionEngineOptions {
  readonly store: Store;
  readonly tasks: TaskEngine;
  readonly layout: StateLayout;
  readonly environmentId: string;
  readonly maxExecutions: number;
  readonly logUrl: (logId: string) => string;
  readonly keepers: ExecutionKeepers;
}

export interface ExecutionEngineEvents {
  execution: [kind: 'create' | 'update' | 'status' | 'delete', execution: TaskExecution];
}

export class ExecutionEngine extends EventEmitter<ExecutionEngineEvents> {
  /** Every execution in the history, oldest first. */
  private readonly executions = new Map<string, ExecutionKeeper>();
  /** Each execution's position in creation order (list pages are keyed by it). */
  private readonly seqs = new Map<string, number>();
  private readonly context: ExecutionKeeperContext = {
    changed: (execution) => this.emit('execution', 'status', execution),
    updated: (execution) => this.emit('execution', 'update', execution),
    finished: () => this.prune(),
  };

  constructor(private readonly options: ExecutionEngineOptions) {
    super();
  }

  async load(): Promise<void> {
    for (const stored of this.options.store.executions.load()) {
      const keeper = await this.options.keepers.restore(this.context, stored);
      this.executions.set(keeper.execution.id, keeper);
      this.seqs.set(keeper.execution.id, stored.seq ?? 0);
    }
  }

  /**
   * A new execution of the task's dependency closure; it begins on a later tick. `creator`: the
   * caller of StartTask, or the environment itself for a trigger.
   */
  start(taskId: string | undefined, startedBy = 'manual', firing?: Firing, creator: Subject = environmentSubject(this.options.environmentId)): TaskExecution {
    const task = this.options.tasks.get(taskId);
    const plan = this.options.tasks.plan(task);
    const id = randomUUID();
    return this.begin(
      {
        id,
        metadata: {
          createdAt: utcNow(),
          creator,
          environmentId: this.options.environmentId,
          startedBy,
          taskId: task.id,
        },
        spec: { desiredPhase: 'TASK_EXECUTION_PHASE_RUNNING', plan },
      },
      task.metadata.reference ?? task.id,
      firing,
    );
  }

  /**
   * An execution made elsewhere (runner mode: by its control plane), run here under its own id
   * with its own plan. Ids that tend could not have made are refused.
   */
  run(remote: Pick<TaskExecution, 'id' | 'metadata' | 'spec'>): TaskExecution {
    if (!isTendId(remote.id)) throw new Error(`Refusing task execution "${remote.id}": its id is not a UUID`);
    const reference = this.options.tasks.all().find((task) => task.id === remote.metadata.taskId)?.metadata.reference ?? remote.metadata.taskId;
    return this.begin(
      {
        id: remote.id,
        metadata: { ...remote.metadata, environmentId: this.options.environmentId },
        spec: { desiredPhase: 'TASK_EXECUTION_PHASE_RUNNING', plan: remote.spec.plan },
      },
      reference,
      undefined,
    );
  }

  private begin(document: Pick<TaskExecution, 'id' | 'metadata' | 'spec'>, taskReference: string, firing: Firing | undefined): TaskExecution {
    const { keepers, store, logUrl } = this.options;
    // The first status: what a new execution's state projects to (PENDING, no steps).
    const status = { ...executionStatus(NEW_EXECUTION, logUrl(document.id)), statusVersion: store.nextVersion() };
    const keeper = keepers.create(this.context, { ...document, status }, taskReference, firing);
    this.executions.set(document.id, keeper);
    keeper.begin();
    this.seqs.set(document.id, store.seqOf('task_executions', document.id));
    this.emit('execution', 'create', keeper.execution);
    return keeper.execution;
  }

  has(id: string): boolean {
    return this.executions.has(id);
  }

  /** The disk refused a new execution: it is stopped and leaves the history (its caller got the error). */
  revert(id: string): void {
    const keeper = this.executions.get(id);
    if (keeper === undefined || this.options.store.executions.has(id)) return;
    this.executions.delete(id);
    keeper.stop();
    this.emit('execution', 'delete', keeper.execution);
  }

  /** The disk refused an execution's status: it is written again. */
  persistStatus(id: string): void {
    if (this.options.store.executions.has(id)) this.executions.get(id)?.persist();
  }

  private keeper(id: string | undefined): ExecutionKeeper {
    const keeper = this.executions.get(requireId(id, 'task execution'));
    if (keeper === undefined) throw notFound(`Task execution "${id}" not found`);
    return keeper;
  }

  get(id: string | undefined): TaskExecution {
    return this.keeper(id).execution;
  }

  /** Newest first. */
  list(request: ListTaskExecutionsRequest): Page<TaskExecution> {
    const filter = request.filter ?? {};
    const environmentIds = filter.environmentIds ?? [];
    if (environmentIds.length > 0 && !environmentIds.includes(this.options.environmentId)) return { items: [], nextToken: '' };
    const phases = new Set<TaskExecutionPhase>(filter.phases ?? []);
    const taskIds = new Set(filter.taskIds ?? []);
    const references = new Set(filter.taskReferences ?? []);
    const matching = [...this.executions.values()]
      .reverse()
      .filter(
        (keeper) =>
          (phases.size === 0 || phases.has(keeper.execution.status.phase)) &&
          (taskIds.size === 0 || taskIds.has(keeper.execution.metadata.taskId)) &&
          (references.size === 0 || references.has(keeper.taskReference)),
      )
      .map((keeper) => ({ seq: this.seqs.get(keeper.execution.id) ?? 0, item: keeper.execution }));
    return paginate(matching, request.pagination, 'executions', 'newest first');
  }

  stop(id: string | undefined): void {
    this.keeper(id).stop();
  }

  /** A status report of the runner (UpdateTaskExecutionStatus), for a keeper that takes them. */
  reportStatus(id: string | undefined, report: TaskExecutionStatusReport): void {
    this.keeper(id).report(report);
  }

  /** The composed log of an execution: its steps in plan order. */
  logSource(executionId: string): ExecutionLogSource | undefined {
    return this.executions.get(executionId)?.logSource();
  }

  /** Retention: the newest `maxExecutions` finished executions are kept, older ones pruned with their logs. */
  private prune(): void {
    const { store, layout, maxExecutions } = this.options;
    for (const id of store.executions.prune(maxExecutions)) {
      const pruned = this.executions.get(id);
      this.executions.delete(id);
      this.seqs.delete(id);
      if (pruned !== undefined) this.emit('execution', 'delete', pruned.execution);
      store.runs.forget(id);
      if (!isTendId(id)) continue;
      rmSync(layout.executionLogs(id), { recursive: true, force: true });
      // The GITPOD_OUTPUT files made for steps that never ran (or ran when the daemon died).
      rmSync(layout.executionOutputs(id), { recursive: true, force: true });
    }
  }

  /** Stops every running execution and waits until they have ended (daemon shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.executions.values()].filter((keeper) => !keeper.finished).map((keeper) => keeper.shutdown()));
  }
}
