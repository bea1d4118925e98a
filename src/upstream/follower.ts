/**
 * Runner mode's input: the control plane's services, tasks and task executions of this
 * environment, listed and then followed through `EventService/WatchEvents`, each made true
 * here through the mirror (`mirror.ts`). The stream is opened before listing, so nothing changed
 * during the list is missed; when it breaks, the daemon lists again (after back-off), so
 * whatever changed while it was away is picked up.
 */
import type { Logger } from '../domain/logger.js';
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Mirror } from './mirror.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffSettings } from './backoff.js';
import { StreamIdle, UpstreamError, type ConnectClient, type WatchEvent } from './connect-client.js';

const AUTOMATION = 'gitpod.v1.EnvironmentAutomationService';
const PAGE_SIZE = 100;

export interface FollowerOptions {
  readonly client: ConnectClient;
  readonly environmentId: string;
  readonly services: ServiceEngine;
  readonly tasks: TaskEngine;
  readonly mirror: Mirror;
  readonly log: Logger;
  readonly backoff?: BackoffSettings;
  /** A stream silent this long is ended and everything listed again. */
  readonly resyncMs?: number;
}

/** Below the HTTP client's own 5-minute body timeout, so the resync is ours. */
export const DEFAULT_RESYNC_MS = 4 * 60_000;

export class ControlPlaneFollower {
  /** True while the event stream is open and the last list is applied. */
  connected = false;
  lastError: string | null = null;
  /** How many times the resources were listed (the first time, and after each break). */
  lists = 0;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: FollowerOptions) {}

  start(): void {
    this.running ??= this.loop();
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { log } = this.options;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      // One connection per pass: whatever ends the pass closes its stream.
      const connection = new AbortController();
      const closeConnection = (): void => connection.abort();
      this.abort.signal.addEventListener('abort', closeConnection);
      try {
        const events = await this.options.client.watch(this.options.environmentId, connection.signal);
        await this.relist();
        failures = 0;
        this.connected = true;
        this.lastError = null;
        await this.follow(events);
        if (!this.abort.signal.aborted) log.warn('The control plane closed the event stream: listing again');
      } catch (error) {
        if (this.abort.signal.aborted) break;
        if (error instanceof StreamIdle) {
          log.debug('No event for a while: listing again');
          continue;
        }
        this.lastError = (error as Error).message;
        if (failures === 0 || failures % 10 === 0) log.warn({ err: this.lastError, failures }, 'Following the control plane failed: retrying');
      } finally {
        this.abort.signal.removeEventListener('abort', closeConnection);
        connection.abort();
      }
      this.connected = false;
      if (this.abort.signal.aborted) break;
      const delay = backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, failures);
      failures += 1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async listAll<T>(method: string, filter: object, field: string): Promise<T[]> {
    const items: T[] = [];
    let token = '';
    do {
      const page = await this.options.client.call<Record<string, unknown> & { pagination?: { nextToken?: string } }>(AUTOMATION, method, {
        filter,
        pagination: { pageSize: PAGE_SIZE, ...(token !== '' ? { token } : {}) },
      });
      items.push(...((page[field] as T[] | undefined) ?? []));
      token = page.pagination?.nextToken ?? '';
    } while (token !== '');
    return items;
  }

  /** Makes every local resource what the control plane lists; what it no longer has goes. */
  private async relist(): Promise<void> {
    const { services, tasks, mirror, environmentId } = this.options;
    const filter = { environmentIds: [environmentId] };
    const remoteServices = await this.listAll<Service>('ListServices', filter, 'services');
    const remoteTasks = await this.listAll<Task>('ListTasks', filter, 'tasks');
    const remoteExecutions = await this.listAll<TaskExecution>('ListTaskExecutions', {
      ...filter,
      phases: ['TASK_EXECUTION_PHASE_PENDING', 'TASK_EXECUTION_PHASE_RUNNING'],
    }, 'taskExecutions');
    this.lists += 1;
    const serviceIds = new Set(remoteServices.map((service) => service.id));
    const taskIds = new Set(remoteTasks.map((task) => task.id));
    for (const service of remoteServices) this.apply('service', service.id, () => mirror.service(service));
    for (const task of remoteTasks) this.apply('task', task.id, () => mirror.task(task));
    for (const task of tasks.all()) if (!taskIds.has(task.id)) this.apply('task', task.id, () => mirror.forgetTask(task.id));
    for (const service of services.all()) if (!serviceIds.has(service.id)) this.apply('service', service.id, () => mirror.forgetService(service.id));
    for (const execution of remoteExecutions) this.apply('execution', execution.id, () => mirror.execution(execution));
  }

  /** A bad resource from the control plane is logged; it never stops the others. */
  private apply(kind: string, id: string, mirror: () => void): void {
    try {
      mirror();
    } catch (error) {
      this.options.log.error({ kind, id, err: (error as Error).message }, 'Cannot apply a resource of the control plane');
    }
  }

  /**
   * Reads the stream while the events already read are applied: each pass takes every event
   * queued meanwhile as one batch, so a burst (a hundred services started at once upstream)
   * costs a few list calls instead of a call per event.
   */
  private async follow(events: AsyncIterable<WatchEvent>): Promise<void> {
    const queue: WatchEvent[] = [];
    let ended = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const resyncMs = this.options.resyncMs ?? DEFAULT_RESYNC_MS;
    let idle: NodeJS.Timeout | undefined;
    const silence = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        failure ??= new StreamIdle();
        ended = true;
        wake?.();
      }, resyncMs);
    };
    silence();
    const reading = (async () => {
      try {
        for await (const event of events) {
          if (ended) break;
          silence();
          queue.push(event);
          wake?.();
        }
      } catch (error) {
        failure ??= error;
      } finally {
        ended = true;
        clearTimeout(idle);
        wake?.();
      }
    })();
    while (queue.length > 0 || !ended) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      await this.handleBatch(queue.splice(0));
    }
    clearTimeout(idle);
    // A resync leaves the reader waiting on a silent stream: the pass's connection is closed by
    // the caller, which ends it.
    if (!(failure instanceof StreamIdle)) await reading;
    if (failure !== undefined && !this.abort.signal.aborted) throw failure;
  }

  /** The resources of these ids, by id; ids the control plane does not have are absent. */
  private async fetch<T extends { id: string }>(method: string, idField: string, field: string, ids: readonly string[]): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    for (let index = 0; index < ids.length; index += PAGE_SIZE) {
      const chunk = ids.slice(index, index + PAGE_SIZE);
      for (const item of await this.listAll<T>(method, { [idField]: chunk }, field)) found.set(item.id, item);
    }
    return found;
  }

  private async getExecution(id: string): Promise<TaskExecution | undefined> {
    try {
      return (await this.options.client.call<{ taskExecution?: TaskExecution }>(AUTOMATION, 'GetTaskExecution', { id })).taskExecution;
    } catch (error) {
      if (error instanceof UpstreamError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  private async handleBatch(batch: readonly WatchEvent[]): Promise<void> {
    const { mirror } = this.options;
    // The last event of each resource; status changes upstream are this runner's own reports.
    const latest = new Map<string, WatchEvent>();
    for (const event of batch) {
      if (event.operation !== 'RESOURCE_OPERATION_UPDATE_STATUS') latest.set(`${event.resourceType}/${event.resourceId}`, event);
    }
    const ofType = (type: string) => [...latest.values()].filter((event) => event.resourceType === type);
    const toFetch = (events: WatchEvent[]) => events.filter((event) => event.operation !== 'RESOURCE_OPERATION_DELETE').map((event) => event.resourceId);
    try {
      const serviceEvents = ofType('RESOURCE_TYPE_SERVICE');
      const remoteServices = await this.fetch<Service>('ListServices', 'serviceIds', 'services', toFetch(serviceEvents));
      for (const { resourceId: id } of serviceEvents) {
        const remote = remoteServices.get(id);
        this.apply('service', id, () => (remote === undefined ? mirror.forgetService(id) : mirror.service(remote)));
      }
      const taskEvents = ofType('RESOURCE_TYPE_TASK');
      const remoteTasks = await this.fetch<Task>('ListTasks', 'taskIds', 'tasks', toFetch(taskEvents));
      for (const { resourceId: id } of taskEvents) {
        const remote = remoteTasks.get(id);
        this.apply('task', id, () => (remote === undefined ? mirror.forgetTask(id) : mirror.task(remote)));
      }
      // A deleted execution is history pruned upstream; the local history keeps its own.
      const executionIds = toFetch(ofType('RESOURCE_TYPE_TASK_EXECUTION'));
      const executions = await Promise.all(executionIds.map((id) => this.getExecution(id)));
      for (const execution of executions) {
        if (execution !== undefined) this.apply('execution', execution.id, () => mirror.execution(execution));
      }
    } catch (error) {
      // Unreachable or 5xx: break the stream, list again. A refusal is logged.
      if (error instanceof UpstreamError && error.retryable) throw error;
      this.options.log.error({ err: (error as Error).message }, 'Cannot read resources of the control plane');
    }
  }
}
