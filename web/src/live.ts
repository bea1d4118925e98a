/**
 * The page's picture of the daemon, kept live by the dashboard's event stream: the stream says
 * what changed, the page reads it through the API (one call per kind for a burst of changes).
 * On every (re)connection the stream starts with `hello` and the page lists everything again,
 * so nothing that happened while it was away is missed. Reads run one after another, so an older
 * answer never overwrites a newer one.
 */
import { automation, CallError, daemon, listAll, whenLoggedOut } from './api.js';
import type { DaemonStatus, PhaseSince, ResourceEvent, Service, StepTimes, Task, TaskExecution } from './types.js';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'logged-out';

export interface LiveState {
  readonly services: ReadonlyMap<string, Service>;
  readonly tasks: ReadonlyMap<string, Task>;
  readonly executions: ReadonlyMap<string, TaskExecution>;
  readonly status: DaemonStatus | undefined;
  readonly serviceTimes: Readonly<Record<string, PhaseSince>>;
  readonly stepTimes: Readonly<Record<string, Readonly<Record<string, StepTimes>>>>;
  readonly connection: Connection;
  readonly loaded: boolean;
  readonly problem: string | undefined;
}

const INITIAL: LiveState = {
  services: new Map(),
  tasks: new Map(),
  executions: new Map(),
  status: undefined,
  serviceTimes: {},
  stepTimes: {},
  connection: 'connecting',
  loaded: false,
  problem: undefined,
};

/** How many of the newest executions the page lists. */
const EXECUTIONS_SHOWN = 100;

const byId = <T extends { id: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((item) => [item.id, item]));

export class Live {
  state: LiveState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private source: EventSource | undefined;
  private reads: Promise<void> = Promise.resolve();
  private readonly dirty = { services: new Set<string>(), tasks: new Set<string>(), executions: new Set<string>() };
  private flushQueued = false;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    whenLoggedOut(() => this.loggedOut());
    const source = new EventSource('events');
    this.source = source;
    source.addEventListener('hello', (event) => {
      const times = JSON.parse((event as MessageEvent<string>).data) as { services: LiveState['serviceTimes']; executions: LiveState['stepTimes'] };
      this.set({ connection: 'live', serviceTimes: times.services, stepTimes: times.executions });
      this.read(() => this.reloadAll());
    });
    source.addEventListener('resource', (event) => this.changed(JSON.parse((event as MessageEvent<string>).data) as ResourceEvent));
    source.addEventListener('daemon', () => this.read(() => this.reloadStatus()));
    source.addEventListener('error', () => {
      // A refused stream (no session) is closed for good; a dropped one is retried by the browser.
      if (source.readyState === EventSource.CLOSED) this.loggedOut();
      else if (this.state.connection !== 'logged-out') this.set({ connection: 'reconnecting' });
    });
  }

  /** Resolves true once `test` holds, false after `timeoutMs`. */
  until(test: (state: LiveState) => boolean, timeoutMs: number): Promise<boolean> {
    if (test(this.state)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve(false);
      }, timeoutMs);
      const unsubscribe = this.subscribe(() => {
        if (!test(this.state)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(true);
      });
    });
  }

  /** An execution the page has just started: shown at once, before its events arrive. */
  add(execution: TaskExecution): void {
    this.set({ executions: new Map([[execution.id, execution], ...this.state.executions]) });
  }

  private set(patch: Partial<LiveState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  private loggedOut(): void {
    this.source?.close();
    this.set({ connection: 'logged-out' });
  }

  private read(work: () => Promise<void>): void {
    this.reads = this.reads.then(work).then(
      () => {
        if (this.state.problem !== undefined) this.set({ problem: undefined });
      },
      (error: unknown) => {
        if (error instanceof CallError && error.status === 401) return;
        this.set({ problem: `Cannot read the daemon's state: ${(error as Error).message}` });
      },
    );
  }

  private async reloadAll(): Promise<void> {
    const [services, tasks, executions, status] = await Promise.all([
      listAll<Service>('ListServices', 'services'),
      listAll<Task>('ListTasks', 'tasks'),
      automation<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', { pagination: { pageSize: EXECUTIONS_SHOWN } }),
      daemon<DaemonStatus>('GetStatus'),
    ]);
    this.set({ services: byId(services), tasks: byId(tasks), executions: byId(executions.taskExecutions ?? []), status, loaded: true });
  }

  private async reloadStatus(): Promise<void> {
    this.set({ status: await daemon<DaemonStatus>('GetStatus') });
  }

  private changed(event: ResourceEvent): void {
    const deleted = event.operation === 'RESOURCE_OPERATION_DELETE';
    const id = event.resourceId;
    if (event.resourceType === 'RESOURCE_TYPE_SERVICE') {
      if (event.times !== null) this.set({ serviceTimes: { ...this.state.serviceTimes, [id]: event.times as PhaseSince } });
      this.mark('services', id, deleted);
    } else if (event.resourceType === 'RESOURCE_TYPE_TASK') {
      this.mark('tasks', id, deleted);
    } else if (event.resourceType === 'RESOURCE_TYPE_TASK_EXECUTION') {
      if (event.times !== null) this.set({ stepTimes: { ...this.state.stepTimes, [id]: event.times as Record<string, StepTimes> } });
      this.mark('executions', id, deleted);
    }
  }

  private mark(kind: 'services' | 'tasks' | 'executions', id: string, deleted: boolean): void {
    if (deleted) {
      this.dirty[kind].delete(id);
      const next = new Map<string, unknown>(this.state[kind]);
      next.delete(id);
      this.set({ [kind]: next } as Partial<LiveState>);
      return;
    }
    this.dirty[kind].add(id);
    if (this.flushQueued) return;
    this.flushQueued = true;
    // A burst of events (a start is several status changes) becomes one read per kind.
    setTimeout(() => {
      this.flushQueued = false;
      this.read(() => this.flush());
    }, 0);
  }

  private async flush(): Promise<void> {
    const take = (set: Set<string>): string[] => {
      const ids = [...set];
      set.clear();
      return ids;
    };
    const serviceIds = take(this.dirty.services);
    const taskIds = take(this.dirty.tasks);
    const executionIds = take(this.dirty.executions);
    const [services, tasks, executions] = await Promise.all([
      serviceIds.length === 0 ? [] : listAll<Service>('ListServices', 'services', { filter: { serviceIds } }),
      taskIds.length === 0 ? [] : listAll<Task>('ListTasks', 'tasks', { filter: { taskIds } }),
      Promise.all(
        executionIds.map((id) =>
          automation<{ taskExecution: TaskExecution }>('GetTaskExecution', { id }).then(
            (answer) => answer.taskExecution,
            (error: unknown) => {
              if (error instanceof CallError && error.code === 'not_found') return undefined;
              throw error;
            },
          ),
        ),
      ),
    ]);
    this.set({
      services: merge(this.state.services, serviceIds, services),
      tasks: merge(this.state.tasks, taskIds, tasks),
      executions: merge(this.state.executions, executionIds, executions.filter((item): item is TaskExecution => item !== undefined)),
    });
  }
}

/** `current` with the `asked` ids replaced by what was found (an id not found is gone). */
function merge<T extends { id: string }>(current: ReadonlyMap<string, T>, asked: readonly string[], found: readonly T[]): ReadonlyMap<string, T> {
  if (asked.length === 0) return current;
  const next = new Map(current);
  for (const id of asked) next.delete(id);
  for (const item of found) next.set(item.id, item);
  return next;
}
