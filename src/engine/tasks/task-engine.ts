/**
 * The tasks of one environment: their CRUD, with the `dependsOn` graph kept free of unknown ids
 * and cycles, and the plan of a task (its dependency closure, layered into groups).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../domain/logger.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../domain/errors.js';
import { buildPlan, findCycle, type PlanNode } from '../../domain/plan.js';
import { UUID_PATTERN } from '../../domain/patterns.js';
import type { CreateTaskRequest, ListTasksRequest, Subject, Task, TaskExecution, UpdateTaskRequest } from '../../domain/schema.js';
import { environmentSubject } from '../../domain/subjects.js';
import { isBlankCommand } from '../../domain/spec-rules.js';
import type { Store } from '../../store/store.js';
import { paginate, type Page } from '../pagination.js';
import { checkEnvironment, checkReference, requireId } from '../requests.js';
import type { ServiceEngine } from '../services/service-engine.js';
import { dependentsMessage } from '../services/service-requests.js';
import { checkRunsOn, validateEnvItems } from '../spec-checks.js';
import { utcNow } from '../../domain/utc-time.js';

export interface TaskEngineOptions {
  readonly store: Store;
  readonly services: ServiceEngine;
  readonly log: Logger;
  readonly environmentId: string;
}

export interface TaskEngineEvents {
  task: [kind: 'create' | 'update' | 'delete', task: Task];
}

export class TaskEngine extends EventEmitter<TaskEngineEvents> {
  private readonly tasks = new Map<string, Task>();
  private readonly byReference = new Map<string, Task>();
  /** Each task's position in creation order (list pages are keyed by it). */
  private readonly seqs = new Map<string, number>();

  constructor(private readonly options: TaskEngineOptions) {
    super();
    options.services.setDependents((id) => this.dependentsOf(id));
  }

  load(): void {
    for (const { task, seq } of this.options.store.tasks.load()) {
      this.seqs.set(task.id, seq);
      this.remember({ ...task, environmentId: this.options.environmentId });
    }
  }

  private insert(task: Task): void {
    this.options.store.tasks.insert(task);
    this.seqs.set(task.id, this.options.store.seqOf('tasks', task.id));
    this.remember(task);
  }

  private remember(task: Task): void {
    this.tasks.set(task.id, task);
    this.byReference.set(task.metadata.reference ?? '', task);
  }

  get(id: string | undefined): Task {
    const task = this.tasks.get(requireId(id, 'task'));
    if (task === undefined) throw notFound(`Task "${id}" not found`);
    return task;
  }

  findByReference(reference: string): Task | undefined {
    return this.byReference.get(reference);
  }

  all(): Task[] {
    return [...this.tasks.values()];
  }

  /** References of the tasks whose dependsOn holds `id`. */
  dependentsOf(id: string): string[] {
    return [...this.tasks.values()].filter((task) => task.dependsOn.includes(id)).map((task) => task.metadata.reference ?? task.id);
  }

  private node(id: string, override?: Task): PlanNode | undefined {
    const task = override !== undefined && override.id === id ? override : this.tasks.get(id);
    if (task !== undefined) return { id, kind: 'task', label: task.metadata.reference ?? id, dependsOn: task.dependsOn, spec: task.spec };
    if (this.options.services.has(id)) {
      const service = this.options.services.get(id);
      return { id, kind: 'service', label: service.metadata.reference ?? id, dependsOn: [] };
    }
    return undefined;
  }

  /** Unknown ids and cycles in `dependsOn` are refused, naming the references involved. */
  private checkDependencies(task: Task): void {
    for (const dependency of task.dependsOn) {
      if (!UUID_PATTERN.test(dependency)) {
        throw invalidArgument(`Invalid dependency "${dependency}" in "dependsOn" of task "${task.metadata.reference}": ids are UUIDs (of a task or a service)`);
      }
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

  /** The plan of an execution of the task: its dependency closure, layered into groups. */
  plan(task: Task): TaskExecution['spec']['plan'] {
    let groups: PlanNode[][];
    try {
      groups = buildPlan(task.id, (nodeId) => this.node(nodeId));
    } catch (error) {
      throw failedPrecondition(`Cannot start task "${task.metadata.reference}": ${(error as Error).message}`);
    }
    return groups.map((group) => ({
      steps: group.map((node) =>
        node.kind === 'service'
          ? { id: node.id, dependsOn: [...node.dependsOn], label: node.label, serviceId: node.id }
          : { id: node.id, dependsOn: [...node.dependsOn], label: node.label, task: { id: node.id, spec: node.spec ?? {} } },
      ),
    }));
  }

  /** `creator`: the caller (the environment itself for what the automations file makes); a client's is ignored. */
  create(request: CreateTaskRequest, creator: Subject = environmentSubject(this.options.environmentId)): Task {
    checkEnvironment(request.environmentId, this.options.environmentId);
    const { createdAt: _createdAt, creator: _creator, ...metadata } = request.metadata ?? {};
    const spec = request.spec ?? {};
    const reference = checkReference(metadata.reference, 'task');
    if (isBlankCommand(spec.command)) throw invalidArgument(`Missing "spec.command": task "${reference}" needs a command`);
    validateEnvItems(spec.env, 'spec.env');
    checkRunsOn(spec.runsOn, `task "${reference}"`);
    if (this.byReference.has(reference)) throw alreadyExists(`Task with reference "${reference}" already exists`);
    const task: Task = {
      id: randomUUID(),
      environmentId: this.options.environmentId,
      dependsOn: [...new Set(request.dependsOn ?? [])],
      metadata: { ...metadata, createdAt: utcNow(), creator },
      spec,
    };
    this.checkDependencies(task);
    this.insert(task);
    this.emit('task', 'create', task);
    return task;
  }

  list(request: ListTasksRequest): Page<Task> {
    const filter = request.filter ?? {};
    const environmentIds = filter.environmentIds ?? [];
    if (environmentIds.length > 0 && !environmentIds.includes(this.options.environmentId)) return { items: [], nextToken: '' };
    const references = new Set(filter.references ?? []);
    const ids = new Set(filter.taskIds ?? []);
    const matching = [...this.tasks.values()]
      .filter((task) => (references.size === 0 || references.has(task.metadata.reference ?? '')) && (ids.size === 0 || ids.has(task.id)))
      .map((task) => ({ seq: this.seqs.get(task.id) ?? 0, item: task }));
    return paginate(matching, request.pagination, 'tasks');
  }

  update(request: UpdateTaskRequest): void {
    const current = this.get(request.id);
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
    if (isBlankCommand(next.spec.command)) throw invalidArgument(`Invalid "spec.command": task "${current.metadata.reference}" needs a command`);
    validateEnvItems(next.spec.env, 'spec.env');
    checkRunsOn(next.spec.runsOn, `task "${current.metadata.reference}"`);
    this.checkDependencies(next);
    this.options.store.tasks.update(next);
    this.remember(next);
    this.emit('task', 'update', next);
  }

  delete(id: string | undefined): void {
    const task = this.get(id);
    const dependents = this.dependentsOf(task.id);
    if (dependents.length > 0) throw failedPrecondition(dependentsMessage('task', task.metadata.reference, dependents));
    this.discard(task.id);
  }

  /** The task of this id becomes `task` (runner mode: what its control plane says), created if new. */
  upsert(remote: Task): void {
    const task: Task = { ...remote, environmentId: this.options.environmentId };
    const existing = this.tasks.get(task.id);
    if (existing === undefined) {
      const clash = this.byReference.get(task.metadata.reference ?? '');
      if (clash !== undefined) this.discard(clash.id);
      this.insert(task);
      this.emit('task', 'create', task);
      return;
    }
    if (JSON.stringify(existing) === JSON.stringify(task)) return;
    if (existing.metadata.reference !== task.metadata.reference) this.byReference.delete(existing.metadata.reference ?? '');
    this.options.store.tasks.update(task);
    this.remember(task);
    this.emit('task', 'update', task);
  }

  /** The disk refused a write of this task: memory goes back to what the disk has. */
  revert(id: string): void {
    const current = this.tasks.get(id);
    if (current === undefined) return;
    const stored = this.options.store.tasks.loadOne(id);
    this.byReference.delete(current.metadata.reference ?? '');
    if (stored === undefined) {
      this.tasks.delete(id);
      this.seqs.delete(id);
      this.emit('task', 'delete', current);
      return;
    }
    const task = { ...stored, environmentId: this.options.environmentId };
    this.remember(task);
    this.emit('task', 'update', task);
  }

  /** Removes a task without the dependents check: delete() after it, or its control plane no longer has it. */
  discard(id: string): void {
    const task = this.tasks.get(id);
    if (task === undefined) return;
    this.options.store.tasks.delete(id);
    this.tasks.delete(id);
    this.seqs.delete(id);
    this.byReference.delete(task.metadata.reference ?? '');
    this.emit('task', 'delete', task);
  }
}
