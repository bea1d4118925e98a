/**
 * Runner mode: follow a control plane's resources and report their status back to it. What
 * `tend daemon --control-plane URL` wires up next to the engines.
 */
import type { Clock } from '../domain/clock.js';
import { Mirror, type MirrorEngines } from './mirror.js';
import type { BackoffSettings } from './backoff.js';
import { ApiError, CONNECT_CODES, type ConnectCode } from '../domain/errors.js';
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import { ConnectClient, UpstreamError } from './connect-client.js';
import { ControlPlaneFollower } from './follower.js';
import { ConnectStatusTransport, StatusReporter, type StatusTransport } from './reporter.js';

export interface ControlPlaneSettings {
  readonly url: string;
  readonly token: string;
  /** Replaces the Connect reporting calls (a platform with another status API). */
  readonly transport?: StatusTransport;
  readonly backoff?: BackoffSettings;
  /** Deadline of one call to the control plane. */
  readonly callTimeoutMs?: number;
  /** A silent event stream is ended and everything listed again after this long (default 4 minutes). */
  readonly resyncMs?: number;
}

/** What `tend status` shows of the connection. */
export interface ControlPlaneHealth {
  readonly url: string;
  /** The event stream is open and reports go through. */
  readonly connected: boolean;
  readonly lastReportAt: string | null;
  readonly outboxDepth: number;
  readonly lastError: string | null;
}

export class ControlPlane {
  private readonly follower: ControlPlaneFollower;
  private readonly reporter: StatusReporter;
  private readonly client: ConnectClient;
  private readonly mirror: Mirror;

  constructor(
    private readonly settings: ControlPlaneSettings,
    engines: MirrorEngines & { environmentId: string; clock: Clock },
  ) {
    const client = new ConnectClient({ url: settings.url, token: settings.token, ...(settings.callTimeoutMs !== undefined ? { timeoutMs: settings.callTimeoutMs } : {}) });
    this.client = client;
    this.mirror = new Mirror(engines);
    const backoff = settings.backoff !== undefined ? { backoff: settings.backoff } : {};
    this.reporter = new StatusReporter({
      store: engines.store,
      services: engines.services,
      executions: engines.executions,
      transport: settings.transport ?? new ConnectStatusTransport(client),
      clock: engines.clock,
      log: engines.log,
      ...backoff,
    });
    this.follower = new ControlPlaneFollower({
      client,
      environmentId: engines.environmentId,
      services: engines.services,
      tasks: engines.tasks,
      mirror: this.mirror,
      log: engines.log,
      ...backoff,
      ...(settings.resyncMs !== undefined ? { resyncMs: settings.resyncMs } : {}),
    });
  }

  /** Reports queued by a previous daemon go first; then the resources are listed and followed. */
  start(): void {
    this.reporter.start();
    this.follower.start();
  }

  /**
   * A change asked of the runner's own API is made on the control plane (with the runner's
   * token), whose answer is the answer. A resource it returns is mirrored at once, so that
   * reading it back here right away finds it; the rest follows through the event stream.
   */
  async forward(service: string, method: string, body: unknown): Promise<unknown> {
    let answer: Record<string, unknown>;
    try {
      answer = await this.client.call<Record<string, unknown>>(service, method, body);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const code = (CONNECT_CODES as readonly string[]).includes(error.code) ? (error.code as ConnectCode) : 'unavailable';
      throw new ApiError(code, `The control plane (${this.settings.url}) answered: ${error.detail}`);
    }
    const { mirror } = this;
    try {
      if (isResource(answer.service)) mirror.service(answer.service as Service);
      if (isResource(answer.task)) mirror.task(answer.task as Task);
      if (isResource(answer.taskExecution)) mirror.execution(answer.taskExecution as TaskExecution);
    } catch {
      // the event stream brings it anyway
    }
    return answer;
  }

  /** How many times the control plane's resources were listed (1 + one per broken stream). */
  get lists(): number {
    return this.follower.lists;
  }

  health(): ControlPlaneHealth {
    const reporter = this.reporter.health();
    return {
      url: this.settings.url,
      connected: this.follower.connected && reporter.reachable,
      lastReportAt: reporter.lastReportAt,
      outboxDepth: reporter.outboxDepth,
      lastError: reporter.lastError ?? this.follower.lastError,
    };
  }

  /** Shutdown, first step: nothing new is taken from the control plane. */
  async stopFollowing(): Promise<void> {
    await this.follower.close();
  }

  /** Shutdown, last step (the services are stopped): their final reports get `flushMs` to go out. */
  async close(flushMs: number): Promise<void> {
    await this.follower.close();
    await this.reporter.flush(flushMs);
    await this.reporter.close();
  }
}

function isResource(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string';
}
