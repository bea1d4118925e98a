/**
 * Tasks and their executions: CRUD of tasks (their `dependsOn` graph kept free of unknown ids and
 * cycles), StartTask (a new execution with its plan), the execution history with its retention
 * rule, and recovery of executions a dead daemon left running.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import type { ExecutionState, StepState } from '../domain/execution-lifecycle.js';
import { buildPlan, findCycle, type PlanNode } from '../domain/plan.js';
import type {
  CreateTaskRequest,
  ListTaskExecutionsRequest,
  ListTasksRequest,
  Task,
  TaskExecution,
  TaskExecutionPhase,
  TaskExecutionStatusReport,
  UpdateTaskRequest,
} from '../domain/schema.js';
import { bootId, isAlive } from '../runtime/proc.js';
import { killSession } from '../runtime/terminate.js';
import type { StoredExecution, Store } from '../store/store.js';
import { ExecutionRunner, executionLogDir, stepLogPath } from './execution-runner.js';
import type { ExecutionLogSource } from './log-source.js';
import { paginate, type Page } from './pagination.js';
import { checkEnvironment, checkReference, requireId } from './requests.js';
import type { ServiceEngine } from './service-engine.js';
import type { EngineSettings } from './settings.js';
import type { Firing } from './firing.js';
import { validateEnvItems } from './validate-env.js';

export interface TaskEngineOptions {
  readonly settings: EngineSettings;
  readonly store: Store;
  readonly services: ServiceEngine;
  readonly log: Logger;
  readonly environmentId: string;
  readonly logUrl: (logId: string) => string;
}

export interface TaskEngineEvents {
  task: [kind: 'create' | 'update' | 'delete', task: Task];
  execution: [kind: 'create' | 'update' | 'status' | 'delete', execution: TaskExecution];
}

export class TaskEngine extends EventEmitter<TaskEngineEvents> {
  private readonly tasks = new Map<string, Task>();
  private readonly byReference = new Map<string, Task>();
  /** Every execution in the history, oldest first. */
  private readonly executions = new Map<string, ExecutionRunner>();

  constructor(private readonly options: TaskEngineOptions) {
    super();
    options.services.setDependents((id) => this.dependentsOf(id));
  }

  async load(): Promise<void> {
    for (const task of this.options.store.loadTasks()) this.remember({ ...task, environmentId: this.options.environmentId });
    for (const stored of this.options.store.loadExecutions()) {
      // Serve-only: nothing ran here; the stored status is the last one a runner reported.
      const execution = this.options.settings.execute ? await this.recover(stored) : stored.execution;
      const runner = this.runner(execution, stored.taskReference, stateOfReport(execution.status), true);
      this.executions.set(runner.execution.id, runner);
    }
  }

  /**
   * An execution that was PENDING or RUNNING belonged to a daemon that died: its step processes
   * are stopped (only those whose identity matches exactly) and it ends FAILED saying so.
   */
  private async recover(stored: StoredExecution): Promise<TaskExecution> {
    const { execution } = stored;
    const phase = execution.status.phase;
    if (phase !== 'TASK_EXECUTION_PHASE_PENDING' && phase !== 'TASK_EXECUTION_PHASE_RUNNING') return execution;
    for (const record of Object.values(stored.processes)) {
      if (record.identity.bootId === bootId() && isAlive(record.identity)) {
        await killSession({ pgids: [record.identity.pgid], marker: record.session, since: Number(record.identity.startTime) });
      }
    }
    const message = 'The tend daemon stopped while this execution was running; its steps were stopped';
    const recovered: TaskExecution = {
      ...execution,
      metadata: { ...execution.metadata, completedAt: new Date().toISOString() },
      status: {
        ...execution.status,
        phase: 'TASK_EXECUTION_PHASE_FAILED',
        failureMessage: message,
        statusVersion: this.options.store.nextVersion(),
        steps: execution.status.steps.map((step) =>
          step.phase === 'TASK_EXECUTION_PHASE_RUNNING' ? { ...step, phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: message } : step,
        ),
      },
    };
    this.options.store.saveExecution({ ...stored, execution: recovered, processes: {} }, true, false);
    return recovered;
  }

  private runner(
    execution: TaskExecution,
    taskReference: string,
    state: ExecutionState,
    inserted: boolean,
    firing?: Firing,
  ): ExecutionRunner {
    return new ExecutionRunner(
      {
        firing,
        settings: this.options.settings,
        store: this.options.store,
        services: this.options.services,
        log: this.options.log,
        logUrl: this.options.logUrl,
        changed: (changed) => this.emit('execution', 'status', changed),
        updated: (updated) => this.emit('execution', 'update', updated),
        finished: () => this.prune(),
      },
      execution,
      taskReference,
      state,
      inserted,
    );
  }

  private remember(task: Task): void {
    this.tasks.set(task.id, task);
    this.byReference.set(task.metadata.reference ?? '', task);
  }

  private task(id: string | undefined): Task {
    const task = this.tasks.get(requireId(id, 'task'));
    if (task === undefined) throw notFound(`Task "${id}" not found`);
    return task;
  }

  /** References of the tasks whose dependsOn holds `id`. */
  dependentsOf(id: string): string[] {
    return [...this.tasks.values()]
      .filter((task) => task.dependsOn.includes(id))
      .map((task) => task.metadata.reference ?? task.id);
  }

  private node(id: string, override?: Task): PlanNode | undefined {
    const task = override !== undefined && override.id === id ? override : this.tasks.get(id);
    if (task !== undefined) {
      return { id, kind: 'task', label: task.metadata.reference ?? id, dependsOn: task.dependsOn, spec: task.spec };
    }
    if (this.options.services.has(id)) {
      const service = this.options.services.get(id);
      return { id, kind: 'service', label: service.metadata.reference ?? id, dependsOn: [] };
    }
    return undefined;
  }

  /** Unknown ids and cycles in `dependsOn` are refused, naming the references involved. */
  private checkDependencies(task: Task): void {
    for (const dependency of task.dependsOn) {
      if (this.node(dependency, task) === undefined) {
        throw invalidArgument(`Unknown dependency "${dependency}" in "dependsOn" of task "${task.metadata.reference}": no task or service has this id`);
      }
    }
    const cycle = findCycle(task.id, (id) => this.node(id, task));
    if (cycle !== null) {
      const names = cycle.map((id) => `"${this.node(id, task)?.label ?? id}"`);
      throw invalidArgument(`Dependency cycle: ${names.join(' → ')}`);
    }
  }

  create(request: CreateTaskRequest): Task {
    checkEnvironment(request.environmentId, this.options.environmentId);
    const metadata = request.metadata ?? {};
    const spec = request.spec ?? {};
    const reference = checkReference(metadata.reference, 'task');
    if ((spec.command ?? '').trim() === '') throw invalidArgument(`Missing "spec.command": task "${reference}" needs a command`);
    validateEnvItems(spec.env, 'spec.env');
    if (this.byReference.has(reference)) throw alreadyExists(`Task with reference "${reference}" already exists`);
    const task: Task = {
      id: randomUUID(),
      environmentId: this.options.environmentId,
      dependsOn: [...new Set(request.dependsOn ?? [])],
      metadata: { ...metadata, createdAt: new Date().toISOString() },
      spec,
    };
    this.checkDependencies(task);
    this.options.store.insertTask(task);
    this.remember(task);
    this.emit('task', 'create', task);
    return task;
  }

  get(id: string | undefined): Task {
    return this.task(id);
  }

  findByReference(reference: string): Task | undefined {
    return this.byReference.get(reference);
  }

  all(): Task[] {
    return [...this.tasks.values()];
  }

  list(request: ListTasksRequest): Page<Task> {
    const filter = request.filter ?? {};
    const environmentIds = filter.environmentIds ?? [];
    if (environmentIds.length > 0 && !environmentIds.includes(this.options.environmentId)) return { items: [], nextToken: '' };
    const references = new Set(filter.references ?? []);
    const ids = new Set(filter.taskIds ?? []);
    const matching = [...this.tasks.values()].filter(
      (task) => (references.size === 0 || references.has(task.metadata.reference ?? '')) && (ids.size === 0 || ids.has(task.id)),
    );
    return paginate(matching, request.pagination);
  }

  update(request: UpdateTaskRequest): void {
    const current = this.task(request.id);
    const patch = request.metadata ?? {};
    const next: Task = {
      ...current,
      dependsOn: request.dependsOn !== undefined ? [...new Set(request.dependsOn)] : current.dependsOn,
      metadata: {
        ...current.metadata,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.triggeredBy !== undefined ? { triggeredBy: patch.triggeredBy.trigger ?? [] } : {}),
      },
      spec: { ...current.spec, ...request.spec },
    };
    if ((next.spec.command ?? '').trim() === '') {
      throw invalidArgument(`Invalid "spec.command": task "${current.metadata.reference}" needs a command`);
    }
    validateEnvItems(next.spec.env, 'spec.env');
    this.checkDependencies(next);
    this.options.store.updateTask(next);
    this.remember(next);
    this.emit('task', 'update', next);
  }

  delete(id: string | undefined): void {
    const task = this.task(id);
    const dependents = this.dependentsOf(task.id);
    if (dependents.length > 0) {
      throw failedPrecondition(
        `Cannot delete task "${task.metadata.reference}": ${dependents.map((ref) => `"${ref}"`).join(', ')} ${dependents.length === 1 ? 'depends' : 'depend'} on it`,
      );
    }
    this.forgetTask(task.id);
  }

  /** A new execution of the task's dependency closure; it begins on a later tick. */
  start(id: string | undefined, startedBy = 'manual', firing?: Firing): TaskExecution {
    const task = this.task(id);
    let groups: PlanNode[][];
    try {
      groups = buildPlan(task.id, (nodeId) => this.node(nodeId));
    } catch (error) {
      throw failedPrecondition(`Cannot start task "${task.metadata.reference}": ${(error as Error).message}`);
    }
    const executionId = randomUUID();
    const execution: TaskExecution = {
      id: executionId,
      metadata: {
        createdAt: new Date().toISOString(),
        creator: { principal: 'PRINCIPAL_USER' },
        environmentId: this.options.environmentId,
        startedBy,
        taskId: task.id,
      },
      spec: {
        desiredPhase: 'TASK_EXECUTION_PHASE_RUNNING',
        plan: groups.map((group) => ({
          steps: group.map((node) =>
            node.kind === 'service'
              ? { id: node.id, dependsOn: [...node.dependsOn], label: node.label, serviceId: node.id }
              : { id: node.id, dependsOn: [...node.dependsOn], label: node.label, task: { id: node.id, spec: node.spec ?? {} } },
          ),
        })),
      },
      status: {
        phase: 'TASK_EXECUTION_PHASE_PENDING',
        logUrl: this.options.logUrl(executionId),
        statusVersion: this.options.store.nextVersion(),
        steps: [],
      },
    };
    const runner = this.runner(execution, task.metadata.reference ?? task.id, { phase: 'pending' }, false, firing);
    this.executions.set(executionId, runner);
    runner.begin();
    this.emit('execution', 'create', runner.execution);
    return runner.execution;
  }

  execution(id: string | undefined): ExecutionRunner {
    const runner = this.executions.get(requireId(id, 'task execution'));
    if (runner === undefined) throw notFound(`Task execution "${id}" not found`);
    return runner;
  }

  /** Newest first. */
  listExecutions(request: ListTaskExecutionsRequest): Page<TaskExecution> {
    const filter = request.filter ?? {};
    const environmentIds = filter.environmentIds ?? [];
    if (environmentIds.length > 0 && !environmentIds.includes(this.options.environmentId)) return { items: [], nextToken: '' };
    const phases = new Set<TaskExecutionPhase>(filter.phases ?? []);
    const taskIds = new Set(filter.taskIds ?? []);
    const references = new Set(filter.taskReferences ?? []);
    const matching = [...this.executions.values()]
      .reverse()
      .filter(
        (runner) =>
          (phases.size === 0 || phases.has(runner.execution.status.phase)) &&
          (taskIds.size === 0 || taskIds.has(runner.execution.metadata.taskId)) &&
          (references.size === 0 || references.has(runner.taskReference)),
      )
      .map((runner) => runner.execution);
    return paginate(matching, request.pagination);
  }

  /** The composed log of an execution: its steps in plan order. */
  logSource(executionId: string): ExecutionLogSource | undefined {
    const runner = this.executions.get(executionId);
    if (runner === undefined) return undefined;
    const steps = runner.execution.spec.plan.flatMap((group) => group.steps);
    return {
      kind: 'execution',
      isFinished: () => runner.finished,
      secrets: () => runner.secretValues,
      steps: steps.map((step) => ({
        id: step.id,
        title: step.label,
        path: stepLogPath(this.options.settings.stateDir, executionId, step.id),
        progress: () => {
          const status = runner.execution.status.steps.find((candidate) => candidate.id === step.id);
          if (status === undefined) return undefined;
          if (status.phase === 'TASK_EXECUTION_PHASE_RUNNING' || runner.stepIsLive(step.id)) return { ended: false };
          const times = runner.times.get(step.id);
          const seconds = times?.endedAt !== undefined ? (times.endedAt - times.startedAt) / 1000 : 0;
          return { ended: true, outcome: OUTCOMES[status.phase] ?? 'failure', secondsElapsed: Math.round(seconds * 1000) / 1000 };
        },
      })),
    };
  }

  stopExecution(id: string | undefined): void {
    this.execution(id).stop();
  }

  /** A status report of the runner (UpdateTaskExecutionStatus); only a serve-only daemon takes them. */
  reportStatus(id: string | undefined, report: TaskExecutionStatusReport): void {
    const runner = this.execution(id);
    if (this.options.settings.execute) {
      throw failedPrecondition(
        'This daemon runs its task executions itself, so it takes no status reports: send them to a daemon started with --serve-only (a control plane)',
      );
    }
    runner.applyReport(report, stateOfReport(report));
  }

  /** Runner mode: makes the local copy of a control plane's task what the control plane says. */
  mirrorTask(remote: Task): void {
    const task: Task = { ...remote, environmentId: this.options.environmentId };
    const existing = this.tasks.get(task.id);
    if (existing === undefined) {
      const clash = this.byReference.get(task.metadata.reference ?? '');
      if (clash !== undefined) this.forgetTask(clash.id);
      this.options.store.insertTask(task);
      this.remember(task);
      this.emit('task', 'create', task);
      return;
    }
    if (JSON.stringify(existing) === JSON.stringify(task)) return;
    if (existing.metadata.reference !== task.metadata.reference) this.byReference.delete(existing.metadata.reference ?? '');
    this.options.store.updateTask(task);
    this.remember(task);
    this.emit('task', 'update', task);
  }

  /** Removes a task, without the dependents check: delete() after it, or the control plane no longer has it. */
  forgetTask(id: string): void {
    const task = this.tasks.get(id);
    if (task === undefined) return;
    this.options.store.deleteTask(id);
    this.tasks.delete(id);
    this.byReference.delete(task.metadata.reference ?? '');
    this.emit('task', 'delete', task);
  }

  /**
   * Runner mode: a control plane's execution. A new PENDING one is run here under the same id,
   * with the plan the control plane made; one the control plane wants STOPPED is stopped.
   */
  mirrorExecution(remote: TaskExecution): void {
    const store = this.options.store;
    store.observeVersion(remote.status.statusVersion);
    const existing = this.executions.get(remote.id);
    if (existing !== undefined) {
      if (remote.spec.desiredPhase === 'TASK_EXECUTION_PHASE_STOPPED') existing.stop();
      return;
    }
    if (remote.status.phase !== 'TASK_EXECUTION_PHASE_PENDING' || remote.spec.desiredPhase === 'TASK_EXECUTION_PHASE_STOPPED') return;
    const execution: TaskExecution = {
      id: remote.id,
      metadata: { ...remote.metadata, environmentId: this.options.environmentId },
      spec: { desiredPhase: 'TASK_EXECUTION_PHASE_RUNNING', plan: remote.spec.plan },
      status: { phase: 'TASK_EXECUTION_PHASE_PENDING', logUrl: this.options.logUrl(remote.id), statusVersion: store.nextVersion(), steps: [] },
    };
    const reference = this.tasks.get(remote.metadata.taskId)?.metadata.reference ?? remote.metadata.taskId;
    const runner = this.runner(execution, reference, { phase: 'pending' }, false);
    this.executions.set(execution.id, runner);
    runner.begin();
    this.emit('execution', 'create', runner.execution);
  }

  /** Retention: the newest `maxExecutions` finished executions are kept, older ones pruned with their logs. */
  private prune(): void {
    const { store, settings } = this.options;
    for (const id of store.pruneExecutions(settings.maxExecutions)) {
      const pruned = this.executions.get(id);
      this.executions.delete(id);
      if (pruned !== undefined) this.emit('execution', 'delete', pruned.execution);
      rmSync(executionLogDir(settings.stateDir, id), { recursive: true, force: true });
    }
  }

  /** Stops every running execution and waits until they have ended (daemon shutdown). */
  async shutdown(): Promise<void> {
    if (!this.options.settings.execute) return;
    const running = [...this.executions.values()].filter((runner) => !runner.finished);
    await Promise.all(
      running.map(
        (runner) =>
          new Promise<void>((resolve) => {
            const check = (_kind: string, execution: TaskExecution): void => {
              if (execution.id === runner.execution.id && runner.finished) {
                this.off('execution', check);
                resolve();
              }
            };
            this.on('execution', check);
            runner.stop();
            if (runner.finished) {
              this.off('execution', check);
              resolve();
            }
          }),
      ),
    );
  }
}

const OUTCOMES: Partial<Record<TaskExecutionPhase, string>> = {
  TASK_EXECUTION_PHASE_SUCCEEDED: 'success',
  TASK_EXECUTION_PHASE_FAILED: 'failure',
  TASK_EXECUTION_PHASE_STOPPED: 'stopped',
};

/**
 * The lifecycle state a stored or reported status stands for: its outcome when it has finished,
 * else pending (a serve-only daemon only needs to know whether it has finished).
 */
function stateOfReport(status: { phase: TaskExecutionPhase; failureMessage?: string; steps?: TaskExecution['status']['steps'] }): ExecutionState {
  const steps: StepState[] = (status.steps ?? []).map((step) => ({
    id: step.id,
    phase:
      step.phase === 'TASK_EXECUTION_PHASE_SUCCEEDED'
        ? 'succeeded'
        : step.phase === 'TASK_EXECUTION_PHASE_STOPPED'
          ? 'stopped'
          : 'failed',
    failureMessage: step.failureMessage ?? null,
    output: step.output ?? {},
  }));
  switch (status.phase) {
    case 'TASK_EXECUTION_PHASE_SUCCEEDED':
      return { phase: 'succeeded', steps };
    case 'TASK_EXECUTION_PHASE_STOPPED':
      return { phase: 'stopped', steps };
    case 'TASK_EXECUTION_PHASE_FAILED':
      return { phase: 'failed', steps, failureMessage: status.failureMessage ?? '' };
    default:
      return { phase: 'pending' };
  }
}
