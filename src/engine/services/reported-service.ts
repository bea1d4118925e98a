/**
 * The keepers of a serve-only daemon (a control plane): it runs nothing, and a service's status
 * is what its runner reports, in the reference's shape (no version): each report that changes
 * the status gets the next statusVersion of this daemon as it arrives; a report that changes
 * nothing (a runner that restarted and sends a delivered report again) is a no-op. The runner
 * keeps the order (one report per resource in flight, never an older after a newer). A deletion
 * waits until the runner reports the service stopped.
 */
import type { ServiceStatus, ServiceStatusReport } from '../../domain/schema.js';
import { NEW_SERVICE, transitionService, type ServiceEvent, type ServiceState } from '../../domain/service-lifecycle.js';
import { isActivePhase, mergeServiceReport, sameStatus, serviceStatus, servicePhase } from '../../domain/service-status.js';
import type { StoredService } from '../../store/store.js';
import type { FileLogSource } from '../log-source.js';
import type { EngineParts } from '../settings.js';
import type { ServiceKeeper, ServiceKeeperContext, ServiceKeepers } from './service-keeper.js';

type Parts = Pick<EngineParts, 'store' | 'logUrl'>;

const NO_VIEW = { logUrl: () => '', output: {}, mask: (text: string) => text };

export class ReportedService implements ServiceKeeper {
  private state: ServiceState;

  constructor(
    private readonly parts: Parts,
    private readonly context: ServiceKeeperContext,
    state: ServiceState,
    private current: ServiceStatus,
  ) {
    this.state = state;
  }

  get status(): ServiceStatus {
    return this.current;
  }

  get active(): boolean {
    return isActivePhase(servicePhase(this.state));
  }

  get up(): boolean {
    const phase = servicePhase(this.state);
    return phase === 'SERVICE_PHASE_STARTING' || phase === 'SERVICE_PHASE_RUNNING';
  }

  /** The runner acts on the document; a deleted service goes once the runner reports it stopped. */
  reconcile(): void {
    if (!this.active) this.context.settled();
  }

  forceStop(): void {}

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  report(report: ServiceStatusReport): void {
    const { statusVersion: _version, ...known } = this.current;
    const merged = mergeServiceReport(known, report);
    if (sameStatus(merged, known)) return;
    this.write({ type: 'Reported', status: merged }, this.parts.store.nextVersion());
    this.reconcile();
  }

  remove(): void {
    this.write({ type: 'Removed' }, this.parts.store.nextVersion());
  }

  persist(): void {
    this.parts.store.services.updateStatus(this.context.id, this.current, null);
    this.context.statusChanged(this.current);
  }

  private write(event: ServiceEvent, version: string): void {
    this.state = transitionService(this.state, event).state;
    this.current = { ...serviceStatus(this.state, NO_VIEW), statusVersion: version };
    this.parts.store.services.updateStatus(this.context.id, this.current, null);
    this.context.statusChanged(this.current);
  }
}

export class ReportedServices implements ServiceKeepers {
  constructor(private readonly parts: Parts) {}

  create(context: ServiceKeeperContext): ServiceKeeper {
    return new ReportedService(this.parts, context, NEW_SERVICE, {
      ...serviceStatus(NEW_SERVICE, NO_VIEW),
      statusVersion: this.parts.store.nextVersion(),
    });
  }

  /** Nothing ran here: the stored status is the last one a runner reported. */
  async restore(context: ServiceKeeperContext, stored: StoredService): Promise<ServiceKeeper> {
    const { statusVersion: _version, ...status } = stored.service.status;
    const state = transitionService(NEW_SERVICE, { type: 'Reported', status }).state;
    return new ReportedService(this.parts, context, state, stored.service.status);
  }

  forget(): void {}

  /** The logs stay on the runner. */
  logSource(): FileLogSource | undefined {
    return undefined;
  }

  close(): void {}
}
