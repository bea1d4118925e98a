/**
 * The automations of the environment as a whole: applying an automations file
 * (UpsertAutomationsFile, the file watcher) and firing triggers. Applies never overlap: they run
 * one after the other through a queue. The triggers fired in this daemon's life are remembered:
 * a service that a later edit adds is started when one of its triggers already fired (as docker
 * compose starts a service added to a running project); a task added later waits for its next
 * trigger.
 */
import type { Logger } from '../domain/logger.js';
import { checkAutomationsFile } from '../config/check-file.js';
import { hasTrigger, serviceFromFile, taskFromFile } from '../config/convert.js';
import { pathText } from '../config/problem.js';
import { invalidArgument } from '../domain/errors.js';
import type { AutomationsFile, Subject, TriggerName } from '../domain/schema.js';
import type { Store } from '../store/store.js';
import { Firing } from './firing.js';
import { faultPoint } from '../runtime/fault.js';
import type { ExecutionEngine } from './executions/execution-engine.js';
import type { ServiceEngine } from './services/service-engine.js';
import type { TaskEngine } from './tasks/task-engine.js';

export interface ApplyResult {
  readonly updatedServiceIds: string[];
  readonly updatedTaskIds: string[];
}

export interface FireResult {
  /** Every service the triggers name (started, or already starting or running). */
  readonly serviceIds: string[];
  /** Those of them that were already starting or running: the firing left them as they were. */
  readonly alreadyRunningServiceIds: string[];
  readonly executionIds: string[];
}

/** References applied from the file last time: removing one from the file deletes it. */
const APPLIED_REFS_KEY = 'automations_file_refs';

interface AppliedRefs {
  services: string[];
  tasks: string[];
}

export class Automations {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fired = new Set<TriggerName>();

  constructor(
    private readonly services: ServiceEngine,
    private readonly tasks: TaskEngine,
    private readonly executions: ExecutionEngine,
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /**
   * Validates (every problem at once) and applies the file; resolves once applied. What it
   * creates has `creator` (UpsertAutomationsFile's caller), else the environment (the watched file).
   */
  apply(file: AutomationsFile, creator?: Subject): Promise<ApplyResult> {
    const problems = checkAutomationsFile(file);
    if (problems.length > 0) {
      return Promise.reject(
        invalidArgument(`Invalid automations file: ${problems.map((problem) => `${pathText(problem.path)}: ${problem.message}`).join('; ')}`),
      );
    }
    const run = this.queue.then(() => this.applyNow(file, creator));
    this.queue = run.catch(() => {});
    return run;
  }

  private appliedRefs(): AppliedRefs {
    const text = this.store.readMeta(APPLIED_REFS_KEY);
    return text === undefined ? { services: [], tasks: [] } : (JSON.parse(text) as AppliedRefs);
  }

  private applyNow(file: AutomationsFile, creator: Subject | undefined): ApplyResult {
    const { services, tasks } = this;
    const updatedServices = new Set<string>();
    const updatedTasks = new Set<string>();
    const fileServices = Object.entries(file.services ?? {});
    const fileTasks = Object.entries(file.tasks ?? {});
    const previous = this.appliedRefs();

    // 1. Services: create new ones, update metadata, replace changed specs (restarting running ones).
    const firedForServices = [...this.fired].filter((name) => name !== 'beforeSnapshot');
    for (const [key, entry] of fileServices) {
      const desired = serviceFromFile(key, entry);
      const existing = services.findByReference(key);
      if (existing === undefined) {
        const created = services.create({ metadata: desired.metadata, spec: { ...desired.spec } }, creator);
        updatedServices.add(created.id);
        const trigger = firedForServices.find((name) => hasTrigger(created.metadata.triggeredBy, [name]));
        if (trigger !== undefined) {
          this.log.info({ service: key, trigger }, 'Service added to the automations file started: its trigger already fired');
          services.start(created.id);
        }
        continue;
      }
      const { reference: _reference, ...metadata } = desired.metadata;
      const metadataChanged = (['name', 'description', 'role', 'triggeredBy'] as const).some(
        (field) => JSON.stringify(metadata[field]) !== JSON.stringify(existing.metadata[field]),
      );
      if (metadataChanged) {
        services.update({
          id: existing.id,
          metadata: {
            ...(metadata.name !== undefined ? { name: metadata.name } : {}),
            ...(metadata.description !== undefined ? { description: metadata.description } : {}),
            ...(metadata.role !== undefined ? { role: metadata.role } : {}),
            triggeredBy: { trigger: metadata.triggeredBy ?? [] },
          },
        });
        updatedServices.add(existing.id);
      }
      const spec = { commands: desired.spec.commands, runsOn: desired.spec.runsOn, readinessTimeout: desired.spec.readinessTimeout };
      if (services.replaceSpec(existing.id, spec)) updatedServices.add(existing.id);
    }

    faultPoint('mid-reload');

    // 2. Tasks: create new ones without dependencies, clear the dependencies of changed ones, then
    // set every task's final dependencies. Each intermediate graph is a subgraph of the final,
    // acyclic one, so no step is refused as a cycle.
    const idOf = (key: string): string => (tasks.findByReference(key) ?? services.findByReference(key))!.id;
    for (const [key, entry] of fileTasks) {
      if (tasks.findByReference(key) === undefined) {
        const desired = taskFromFile(key, entry);
        updatedTasks.add(tasks.create({ metadata: desired.metadata, spec: desired.spec }, creator).id);
      }
    }
    const wanted = fileTasks.map(([key, entry]) => ({ task: tasks.findByReference(key)!, desired: taskFromFile(key, entry) }));
    for (const { task, desired } of wanted) {
      const dependsOn = desired.dependsOn.map(idOf);
      if (JSON.stringify(dependsOn) !== JSON.stringify(task.dependsOn) && task.dependsOn.length > 0) {
        tasks.update({ id: task.id, dependsOn: [] });
      }
    }
    for (const { task, desired } of wanted) {
      const current = tasks.get(task.id);
      const dependsOn = desired.dependsOn.map(idOf);
      const { reference: _reference, ...metadata } = desired.metadata;
      const changed =
        JSON.stringify(dependsOn) !== JSON.stringify(current.dependsOn) ||
        (['command', 'runsOn', 'prebuildRequiresSuccess'] as const).some(
          (field) => JSON.stringify(desired.spec[field]) !== JSON.stringify(current.spec[field]),
        ) ||
        (['name', 'description', 'triggeredBy'] as const).some(
          (field) => JSON.stringify(metadata[field]) !== JSON.stringify(current.metadata[field]),
        );
      if (!changed) continue;
      tasks.update({
        id: task.id,
        dependsOn,
        metadata: {
          ...(metadata.name !== undefined ? { name: metadata.name } : {}),
          ...(metadata.description !== undefined ? { description: metadata.description } : {}),
          triggeredBy: { trigger: metadata.triggeredBy ?? [] },
        },
        spec: { ...desired.spec },
      });
      if (task.dependsOn.length > 0 || dependsOn.length > 0 || !updatedTasks.has(task.id)) updatedTasks.add(task.id);
    }

    // 3. What the file applied before and no longer has: tasks first (none depends on them now
    // but each other), then services, stopped before they go.
    const keepTasks = new Set(fileTasks.map(([key]) => key));
    const removedTasks = previous.tasks.filter((key) => !keepTasks.has(key)).map((key) => tasks.findByReference(key)).filter((task) => task !== undefined);
    for (const task of removedTasks) if (task.dependsOn.length > 0) tasks.update({ id: task.id, dependsOn: [] });
    for (const task of removedTasks) {
      try {
        tasks.delete(task.id);
        updatedTasks.add(task.id);
      } catch (error) {
        this.log.warn({ task: task.metadata.reference, err: error }, 'Cannot delete a task removed from the automations file');
      }
    }
    const keepServices = new Set(fileServices.map(([key]) => key));
    for (const key of previous.services.filter((ref) => !keepServices.has(ref))) {
      const service = services.findByReference(key);
      if (service === undefined) continue;
      try {
        services.delete(service.id, false);
        updatedServices.add(service.id);
      } catch (error) {
        this.log.warn({ service: key, err: error }, 'Cannot delete a service removed from the automations file');
      }
    }

    this.store.writeMeta(APPLIED_REFS_KEY, JSON.stringify({ services: [...keepServices], tasks: [...keepTasks] }));
    const result = { updatedServiceIds: [...updatedServices], updatedTaskIds: [...updatedTasks] };
    this.log.info({ services: result.updatedServiceIds.length, tasks: result.updatedTaskIds.length }, 'Automations file applied');
    return result;
  }

  /**
   * Fires triggers: every service that lists one is started, every task that lists one runs in a
   * new execution; within this firing each task runs at most once (shared dependencies).
   */
  fire(names: readonly TriggerName[]): FireResult {
    for (const name of names) this.fired.add(name);
    const firing = new Firing(names);
    const serviceIds: string[] = [];
    const alreadyRunningServiceIds: string[] = [];
    const executionIds: string[] = [];
    const serviceTriggers = names.filter((name) => name !== 'beforeSnapshot');
    for (const service of this.services.all()) {
      if (service.spec.desiredPhase === 'SERVICE_PHASE_DELETED' || !hasTrigger(service.metadata.triggeredBy, serviceTriggers)) continue;
      const phase = service.status.phase;
      if (service.spec.desiredPhase === 'SERVICE_PHASE_RUNNING' && (phase === 'SERVICE_PHASE_STARTING' || phase === 'SERVICE_PHASE_RUNNING')) {
        alreadyRunningServiceIds.push(service.id);
      }
      this.services.start(service.id);
      serviceIds.push(service.id);
    }
    for (const task of this.tasks.all()) {
      const matched = names.find((name) => hasTrigger(task.metadata.triggeredBy, [name]));
      if (matched === undefined) continue;
      executionIds.push(this.executions.start(task.id, matched, firing).id);
    }
    this.log.info({ triggers: names, services: serviceIds.length, executions: executionIds.length }, 'Triggers fired');
    return { serviceIds, alreadyRunningServiceIds, executionIds };
  }

  /** The triggers fired in this daemon's life, in the order they first fired. */
  get firedTriggers(): TriggerName[] {
    return [...this.fired];
  }
}
