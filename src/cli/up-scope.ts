/**
 * What a `tend up` is about: everything (the start triggers), or the services and tasks it was
 * named (`tend up web build`) and what they depend on. And what it started itself, whose output it
 * shows from the start and whose end `--detach` waits for.
 */
import type { Service, Task, TaskExecution } from '../domain/schema.js';

export class Scope {
  private constructor(
    /** undefined: every service and task. */
    private readonly only: { readonly serviceIds: ReadonlySet<string>; readonly taskIds: ReadonlySet<string> } | undefined,
    readonly startedServiceIds: readonly string[],
    readonly startedExecutionIds: readonly string[],
  ) {}

  static everything(started: { serviceIds: readonly string[]; executionIds: readonly string[] }): Scope {
    return new Scope(undefined, started.serviceIds, started.executionIds);
  }

  /** The named services and tasks, the services their executions' plans hold, and what was started. */
  static named(
    serviceIds: readonly string[],
    taskIds: readonly string[],
    started: { serviceIds: readonly string[]; executionIds: readonly string[] },
  ): Scope {
    return new Scope({ serviceIds: new Set([...serviceIds, ...started.serviceIds]), taskIds: new Set(taskIds) }, started.serviceIds, started.executionIds);
  }

  hasService(service: Service): boolean {
    return this.only === undefined || this.only.serviceIds.has(service.id);
  }

  hasTask(task: Task): boolean {
    return this.only === undefined || this.only.taskIds.has(task.id);
  }

  hasExecution(execution: TaskExecution): boolean {
    return this.only === undefined || this.only.taskIds.has(execution.metadata.taskId) || this.startedExecutionIds.includes(execution.id);
  }

  /** Whether this `tend up` started it (a service it started, an execution it made). */
  started(id: string): boolean {
    return this.startedServiceIds.includes(id) || this.startedExecutionIds.includes(id);
  }
}
