/**
 * A live picture of the daemon's services, tasks and task executions, kept true by its event
 * stream (`EventService/WatchEvents`), never by polling: the stream is opened before the first
 * list (so nothing that changes meanwhile is missed), and each event is followed by one read of
 * the resource it names (one read in flight per resource; an event that comes meanwhile reads it
 * again after; many services named at once are read by lists: service-reads.ts). When the stream
 * ends while the daemon lives (a reader that fell behind), it is opened again and everything
 * listed again. When the daemon is gone the watch ends and says how:
 * `stopped` (it stopped itself: `tend down`, a signal; its `daemon.json` is gone) or `vanished`
 * (killed, crashed: it left its `daemon.json`). `tend up`, its TUI, `tend logs -f` and the CLI's
 * waits are built on it; see ARCHITECTURE.md ("Following the daemon").
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { readDaemonInfo, stateFile } from '../app/state-dir.js';
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import { CliError, type ApiClient } from './api-client.js';
import { bodyLines } from './line-decoder.js';
import { listAll, listServicesById } from './list-all.js';
import { ServiceReads } from './service-reads.js';

export type ResourceKind = 'service' | 'task' | 'execution';

export type ResourceChange =
  | { readonly kind: 'service'; readonly service: Service }
  | { readonly kind: 'task'; readonly task: Task }
  | { readonly kind: 'execution'; readonly execution: TaskExecution }
  | { readonly kind: 'removed'; readonly type: ResourceKind; readonly id: string };

/** Why a watch ended. */
export type WatchEnd = 'stopped' | 'vanished' | 'closed';

interface WireEvent {
  readonly operation?: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
}

const TYPES: Readonly<Record<string, ResourceKind>> = {
  RESOURCE_TYPE_SERVICE: 'service',
  RESOURCE_TYPE_TASK: 'task',
  RESOURCE_TYPE_TASK_EXECUTION: 'execution',
};

/** The pause before opening the stream again while the daemon still lives. */
const RECONNECT_PAUSE_MS = 100;
/** How long a daemon that closed the stream may take to exit or to answer again. */
const DAEMON_GONE_TIMEOUT_MS = 15_000;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** The newest of a resource's versions (spec and status versions come from one growing counter). */
function versionOf(resource: Service | TaskExecution): bigint {
  const versions = [resource.status.statusVersion, 'spec' in resource && 'specVersion' in resource.spec ? resource.spec.specVersion : undefined];
  let newest = 0n;
  for (const version of versions) {
    if (version === undefined || !/^\d+$/.test(version)) continue;
    const value = BigInt(version);
    if (value > newest) newest = value;
  }
  return newest;
}

export class ResourceWatch extends EventEmitter<{ change: [ResourceChange]; end: [WatchEnd] }> {
  readonly services = new Map<string, Service>();
  readonly tasks = new Map<string, Task>();
  readonly executions = new Map<string, TaskExecution>();
  /** Settles once the watch has ended; says how. */
  readonly ended: Promise<WatchEnd>;
  private endWith!: (end: WatchEnd) => void;
  private readonly abort = new AbortController();
  private readonly reading = new Map<string, { again: boolean }>();
  private finished: WatchEnd | undefined;
  private readonly serviceReads: ServiceReads;

  private constructor(readonly client: ApiClient) {
    super();
    this.setMaxListeners(0);
    this.ended = new Promise((resolve) => (this.endWith = resolve));
    this.serviceReads = new ServiceReads(
      (id) => this.read('service', id),
      (ids) => this.refreshServices(ids),
      () => this.abort.signal.aborted,
    );
  }

  /** Opens the stream, lists everything, and follows; resolves once the first list is in. */
  static async start(client: ApiClient): Promise<ResourceWatch> {
    const watch = new ResourceWatch(client);
    const response = await client.watchEvents(watch.abort.signal);
    await watch.relist();
    void watch.follow(response);
    return watch;
  }

  get end(): WatchEnd | undefined {
    return this.finished;
  }

  close(): void {
    this.abort.abort();
    this.finish('closed');
  }

  /** The newest execution of a task that this watch knows. */
  latestExecution(taskId: string): TaskExecution | undefined {
    let latest: TaskExecution | undefined;
    for (const execution of this.executions.values()) {
      if (execution.metadata.taskId !== taskId) continue;
      if (latest === undefined || execution.metadata.createdAt > latest.metadata.createdAt) latest = execution;
    }
    return latest;
  }

  /**
   * Resolves with the predicate's first truthy value, checked now and after every change;
   * rejects when the daemon goes away first.
   */
  until<T>(predicate: () => T | undefined | null | false): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const value = predicate();
        if (value === undefined || value === null || value === false) return false;
        this.off('change', check);
        this.off('end', gone);
        resolve(value);
        return true;
      };
      const gone = (end: WatchEnd): void => {
        this.off('change', check);
        reject(new CliError(end === 'closed' ? 'Stopped waiting' : 'The tend daemon stopped meanwhile: `tend up` starts it again'));
      };
      if (check()) return;
      if (this.finished !== undefined) return gone(this.finished);
      this.on('change', check);
      this.once('end', gone);
    });
  }

  private finish(end: WatchEnd): void {
    if (this.finished !== undefined) return;
    this.finished = end;
    this.endWith(end);
    this.emit('end', end);
  }

  /**
   * Reads a resource now (after a request changed it, so that what the watch holds is at least
   * as new as the request's effect when this resolves).
   */
  async refresh(type: ResourceKind, id: string): Promise<void> {
    this.set(await this.fetch(type, id));
  }

  /** These services read again by lists of their ids (after a request changed them all). */
  async refreshServices(ids: readonly string[]): Promise<void> {
    const services = await listServicesById<Service>(this.client.call, ids);
    if (!this.abort.signal.aborted) for (const service of services) this.set({ kind: 'service', service });
  }

  private set(change: ResourceChange): void {
    if (change.kind === 'service') {
      // Reads may come back out of order (an event's read, a refresh): never go back in time.
      const known = this.services.get(change.service.id);
      if (known !== undefined && versionOf(known) > versionOf(change.service)) return;
      this.services.set(change.service.id, change.service);
    } else if (change.kind === 'task') this.tasks.set(change.task.id, change.task);
    else if (change.kind === 'execution') {
      const known = this.executions.get(change.execution.id);
      if (known !== undefined && versionOf(known) > versionOf(change.execution)) return;
      this.executions.set(change.execution.id, change.execution);
    }
    else if (change.type === 'service') this.services.delete(change.id);
    else if (change.type === 'task') this.tasks.delete(change.id);
    else this.executions.delete(change.id);
    if (this.finished === undefined) this.emit('change', change);
  }

  /** Everything as it is now (first, and after the stream was opened again). */
  private async relist(): Promise<void> {
    const { call } = this.client;
    const [services, tasks] = await Promise.all([
      listAll<Service>(call, 'ListServices', 'services'),
      listAll<Task>(call, 'ListTasks', 'tasks'),
    ]);
    // Each task's latest execution (the history may hold many; older ones come by event only).
    const latest = await Promise.all(
      tasks.map(async (task) => {
        const page = await call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', { filter: { taskIds: [task.id] }, pagination: { pageSize: 1 } });
        return page.taskExecutions?.[0];
      }),
    );
    for (const id of [...this.services.keys()]) if (!services.some((service) => service.id === id)) this.set({ kind: 'removed', type: 'service', id });
    for (const id of [...this.tasks.keys()]) if (!tasks.some((task) => task.id === id)) this.set({ kind: 'removed', type: 'task', id });
    for (const service of services) this.set({ kind: 'service', service });
    for (const task of tasks) this.set({ kind: 'task', task });
    for (const execution of latest) if (execution !== undefined) this.set({ kind: 'execution', execution });
    // An execution known from before that changed while the stream was closed.
    for (const id of this.executions.keys()) if (!latest.some((execution) => execution?.id === id)) this.read('execution', id);
  }

  private async follow(first: Response): Promise<void> {
    let response: Response | undefined = first;
    const deadline = (): number => Date.now() + DAEMON_GONE_TIMEOUT_MS;
    let giveUpAt = deadline();
    while (!this.abort.signal.aborted) {
      if (response !== undefined) {
        try {
          for await (const line of bodyLines(response.body as AsyncIterable<Uint8Array>)) this.onLine(line);
        } catch {
          // The daemon closed the connection (it stops, or we fell behind): see below which.
        }
        response = undefined;
        giveUpAt = deadline();
      }
      if (this.abort.signal.aborted) return;
      const gone = this.daemonGone();
      if (gone !== undefined || Date.now() > giveUpAt) return this.finish(gone ?? 'vanished');
      await sleep(RECONNECT_PAUSE_MS);
      try {
        response = await this.client.watchEvents(this.abort.signal);
        await this.relist();
      } catch {
        response?.body?.cancel().catch(() => {});
        response = undefined;
      }
    }
  }

  /** `stopped` or `vanished` once the daemon's process is gone; undefined while it lives. */
  private daemonGone(): WatchEnd | undefined {
    const { stateDir, info } = this.client;
    if (stateDir === '') return undefined;
    if (readDaemonInfo(stateDir)?.pid === info.pid) return undefined;
    // A daemon that stopped itself removed its daemon.json; one that was killed left it.
    return existsSync(stateFile.daemon(stateDir)) ? 'vanished' : 'stopped';
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let event: WireEvent;
    try {
      event = JSON.parse(line) as WireEvent;
    } catch {
      return;
    }
    const type = TYPES[event.resourceType ?? ''];
    if (type === undefined || event.resourceId === undefined) return;
    if (event.operation === 'RESOURCE_OPERATION_DELETE') this.set({ kind: 'removed', type, id: event.resourceId });
    else if (type === 'service') this.serviceReads.add(event.resourceId);
    else this.read(type, event.resourceId);
  }

  /** Reads one resource; while a read of it is in flight, another one follows it once. */
  private read(type: ResourceKind, id: string): void {
    const key = `${type}/${id}`;
    const inFlight = this.reading.get(key);
    if (inFlight !== undefined) {
      inFlight.again = true;
      return;
    }
    const state = { again: false };
    this.reading.set(key, state);
    void (async () => {
      do {
        state.again = false;
        const change = await this.fetch(type, id).catch(() => undefined);
        if (change !== undefined && !this.abort.signal.aborted) this.set(change);
      } while (state.again && !this.abort.signal.aborted);
      this.reading.delete(key);
    })();
  }

  private async fetch(type: ResourceKind, id: string): Promise<ResourceChange> {
    const { call } = this.client;
    try {
      if (type === 'service') return { kind: 'service', service: (await call<{ service: Service }>('GetService', { id })).service };
      if (type === 'task') return { kind: 'task', task: (await call<{ task: Task }>('GetTask', { id })).task };
      return { kind: 'execution', execution: (await call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id })).taskExecution };
    } catch (error) {
      if (error instanceof CliError && error.code === 'not_found') return { kind: 'removed', type, id };
      throw error;
    }
  }
}
