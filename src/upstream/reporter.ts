/**
 * Status upstream: every status change of a service or task execution is queued in the store's
 * outbox in the transaction that records it (so a report is never lost, not even by a crash
 * right after), and sent to the control plane from there, in the reference's shape
 * (`UpdateService.status`: failureMessage, logUrl, output, phase, session; no version: the
 * control plane gives each report its own as it arrives):
 *
 * - per resource in order, never an older after a newer: one report of a resource is in flight
 *   at a time, and the outbox keeps only a resource's latest status (a newer one replaces a
 *   queued older one; an older one never replaces a newer); the local statusVersion is the
 *   outbox's order key and is never sent;
 * - an output key the last delivered report of the session had and the status no longer has is
 *   sent as "" (the reference's way to unset it), so the control plane never keeps a stale one;
 * - only once the status is committed (a status is never sent that a crash could take back);
 * - while the control plane is unreachable or answers 5xx, 408 or 429, sending pauses with
 *   exponential back-off and jitter; the reports wait in the outbox, across restarts too;
 * - any other 4xx is final: the report is dropped and logged with its resource.
 */
import type { Logger } from '../domain/logger.js';
import { systemClock, type Clock, type TimerHandle } from '../domain/clock.js';
import type { ServiceStatus, ServiceStatusReport, TaskExecution, TaskExecutionStatusReport } from '../domain/schema.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { OutboxEntry } from '../store/outbox.js';
import type { Store } from '../store/store.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffSettings } from './backoff.js';
import { UpstreamError, type ConnectClient } from './connect-client.js';
import { utcNow } from '../domain/utc-time.js';

/** How status reports travel; the default is Connect calls on the control plane's API. */
export interface StatusTransport {
  reportService(id: string, status: ServiceStatusReport): Promise<void>;
  reportExecution(id: string, status: TaskExecutionStatusReport): Promise<void>;
}

/**
 * The default transport. Services: `UpdateService {id, status}` of the public API. Executions:
 * `UpdateTaskExecutionStatus {id, status}` on the same service path, in the same Connect style
 * (the public API has no such method; tend serves it, see README "Runner mode").
 */
export class ConnectStatusTransport implements StatusTransport {
  constructor(private readonly client: ConnectClient) {}

  async reportService(id: string, status: ServiceStatusReport): Promise<void> {
    await this.client.call('gitpod.v1.EnvironmentAutomationService', 'UpdateService', { id, status });
  }

  async reportExecution(id: string, status: TaskExecutionStatusReport): Promise<void> {
    await this.client.call('gitpod.v1.EnvironmentAutomationService', 'UpdateTaskExecutionStatus', { id, status });
  }
}

/**
 * A service's report: every field, "" for an absent one (so that the control plane clears what
 * ended), and "" for each output key that the last delivered report of the same session had.
 */
export function serviceReport(status: ServiceStatus, delivered: ServiceStatusReport | undefined): ServiceStatusReport {
  const output: Record<string, string> = {};
  if (delivered !== undefined && delivered.session === (status.session ?? '')) {
    for (const [key, value] of Object.entries(delivered.output ?? {})) if (value !== '') output[key] = '';
  }
  Object.assign(output, status.output ?? {});
  return {
    failureMessage: status.failureMessage ?? '',
    logUrl: status.logUrl ?? '',
    output,
    phase: status.phase ?? 'SERVICE_PHASE_UNSPECIFIED',
    session: status.session ?? '',
  };
}

/** An execution's report: its status without the local version. */
export function executionReport(status: TaskExecution['status']): TaskExecutionStatusReport {
  const { statusVersion: _version, ...report } = status;
  return report;
}

/** The method itself is missing upstream (501, or a 404 that is not a Connect not_found of the execution). */
function isMissingMethod(error: UpstreamError): boolean {
  return error.code === 'unimplemented' || (error.status === 404 && error.code !== 'not_found');
}

export interface ReporterOptions {
  readonly store: Store;
  readonly services: ServiceEngine;
  readonly executions: ExecutionEngine;
  readonly transport: StatusTransport;
  readonly log: Logger;
  readonly backoff?: BackoffSettings;
  /** Reports of different resources in flight at once. */
  readonly concurrency?: number;
  /** The back-off's timers run on it. */
  readonly clock?: Clock;
  /** The back-off's jitter (0 ≤ x < 1). */
  readonly random?: () => number;
}

export interface ReporterHealth {
  /** False while the last report failed and sending is paused. */
  readonly reachable: boolean;
  readonly lastReportAt: string | null;
  readonly lastError: string | null;
  readonly outboxDepth: number;
}

export class StatusReporter {
  private readonly inFlight = new Set<string>();
  private failures = 0;
  /** Set after a failure until the back-off timer fires (a timer, not a clock: no early-fire race). */
  private paused = false;
  private retryTimer: TimerHandle | undefined;
  private scheduled = false;
  private closed = false;
  private lastReportAt: string | null = null;
  private lastError: string | null = null;
  /** The control plane answered that it has no UpdateTaskExecutionStatus (warned once). */
  private executionReportsRefused = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly backoff: BackoffSettings;
  private readonly concurrency: number;
  private readonly clock: Clock;

  constructor(private readonly options: ReporterOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.concurrency = options.concurrency ?? 32;
    this.clock = options.clock ?? systemClock;
    // Listeners run in the tick of the status change: the outbox row joins its transaction.
    options.services.on('change', (kind, service) => {
      if (kind === 'status' && service.status.statusVersion !== undefined) {
        options.store.outbox.enqueue('service', service.id, service.status.statusVersion, service.status);
        this.kick();
      }
    });
    options.executions.on('execution', (kind, execution) => {
      if (kind === 'status') {
        options.store.outbox.enqueue('execution', execution.id, execution.status.statusVersion, execution.status);
        this.kick();
      }
    });
  }

  /** Sends what the outbox holds (reports a previous daemon could not deliver, too). */
  start(): void {
    this.kick();
  }

  health(): ReporterHealth {
    return {
      reachable: this.failures === 0,
      lastReportAt: this.lastReportAt,
      lastError: this.lastError,
      outboxDepth: this.options.store.outbox.depth(),
    };
  }

  /** Sends on the tick after the status is committed; many changes of one tick make one pass. */
  private kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    void this.options.store.committed().then(
      () => {
        this.scheduled = false;
        this.pump();
      },
      // The disk refused the change: its status is written again, and that kicks again.
      () => {
        this.scheduled = false;
      },
    );
  }

  private pump(): void {
    if (this.closed || this.paused) return;
    for (const entry of this.options.store.outbox.entries()) {
      if (this.inFlight.size >= this.concurrency) break;
      const key = `${entry.kind}/${entry.id}`;
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      void this.send(entry).finally(() => {
        this.inFlight.delete(key);
        if (this.inFlight.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.kick();
      });
    }
  }

  private async send(entry: OutboxEntry): Promise<void> {
    const { transport, store, log } = this.options;
    const resource = { kind: entry.kind, id: entry.id, statusVersion: entry.version.toString() };
    let sent: ServiceStatusReport | null | undefined;
    try {
      if (entry.kind === 'service') {
        const report = serviceReport(JSON.parse(entry.body) as ServiceStatus, store.outbox.lastDelivered('service', entry.id) as ServiceStatusReport | undefined);
        await transport.reportService(entry.id, report);
        // What the control plane now holds: the next report clears what this one set (a deleted service's, nothing).
        sent = report.phase === 'SERVICE_PHASE_DELETED' ? null : { ...report, output: Object.fromEntries(Object.entries(report.output ?? {}).filter(([, value]) => value !== '')) };
      } else {
        await transport.reportExecution(entry.id, executionReport(JSON.parse(entry.body) as TaskExecution['status']));
      }
    } catch (error) {
      if (this.closed) return;
      const upstream = error instanceof UpstreamError ? error : new UpstreamError((error as Error).message, null, 'unknown');
      // A deleted service's last report may find it already gone upstream: that is delivered.
      const gone = upstream.code === 'not_found' && entry.kind === 'service' && (JSON.parse(entry.body) as ServiceStatus).phase === 'SERVICE_PHASE_DELETED';
      if (upstream.retryable) {
        this.lastError = upstream.message;
        const delay = backoffDelay(this.backoff, this.failures, this.options.random);
        this.failures += 1;
        if (this.failures === 1 || this.failures % 10 === 0) {
          log.warn({ ...resource, err: upstream.message, retryInMs: delay, failures: this.failures }, 'Control plane unavailable: status reports wait in the outbox');
        }
        this.paused = true;
        this.clock.clearTimeout(this.retryTimer);
        this.retryTimer = this.clock.setTimeout(() => {
          this.paused = false;
          this.kick();
        }, delay);
        return;
      }
      if (entry.kind === 'execution' && isMissingMethod(upstream)) {
        // A control plane without tend's execution reports (Gitpod's): said once, then dropped quietly.
        if (!this.executionReportsRefused) {
          log.warn({ ...resource, status: upstream.status }, 'The control plane takes no task execution reports (UpdateTaskExecutionStatus): give the runner a StatusTransport for its API; execution reports are dropped');
        }
        this.executionReportsRefused = true;
      } else if (!gone) {
        log.error({ ...resource, status: upstream.status, code: upstream.code, err: upstream.message }, 'Control plane refused a status report: not retried');
      }
      store.outbox.delivered(entry, gone ? null : undefined);
      return;
    }
    if (this.closed) return;
    if (this.failures > 0) log.info({ failures: this.failures }, 'Control plane reachable again: sending the outbox');
    this.failures = 0;
    this.lastError = null;
    this.lastReportAt = utcNow();
    store.outbox.delivered(entry, sent);
  }

  /**
   * Daemon shutdown: gives the last reports (the services just stopped) a moment to go out.
   * Whatever is still queued at the deadline, or while the control plane is away, stays in the
   * outbox for the next start.
   */
  async flush(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.kick();
    while (Date.now() < deadline && this.failures === 0 && !this.closed) {
      await this.options.store.committed().catch(() => {});
      if (this.inFlight.size === 0 && this.options.store.outbox.depth() === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops sending; reports in flight are abandoned (they stay in the outbox). */
  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    if (this.inFlight.size > 0) {
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
  }
}
