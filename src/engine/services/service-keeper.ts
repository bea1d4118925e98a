/**
 * The seam between the service engine (which owns each service's document: metadata and spec)
 * and what keeps its status. A daemon that runs its services gives every service a
 * `ServiceController`; a serve-only daemon (a control plane) a `ReportedService`, whose status is
 * whatever its runner reports. The engine never asks which one it has.
 */
import type { Service, ServiceStatus, ServiceStatusReport } from '../../domain/schema.js';
import type { StoredService } from '../../store/store.js';
import type { FileLogSource } from '../log-source.js';

/** A service without its status: what the engine writes. */
export type ServiceDocument = Omit<Service, 'status'>;

export interface ServiceKeeperContext {
  readonly id: string;
  /** The service's document as it is now. */
  document(): ServiceDocument;
  /** The status changed (already written to the store). */
  statusChanged(status: ServiceStatus): void;
  /**
   * Called when the service is inactive and may move on: the engine applies a spec change that
   * waited for the stop, or removes a service whose deletion waited. True when it did something.
   */
  settled(): boolean;
}

export interface ServiceKeeper {
  /** The status the API shows, with its version. */
  readonly status: ServiceStatus;
  /** Starting, running or stopping: a process may be alive. */
  readonly active: boolean;
  /** Starting or running: a start request has nothing to do. */
  readonly up: boolean;
  /** The document changed: act on what it now asks for. */
  reconcile(): void;
  /** The next stop kills at once (DeleteService with force), also one under way. */
  forceStop(): void;
  /** Daemon shutdown: stop by the stop rules without changing what is wanted. */
  shutdown(): Promise<void>;
  /** A runner's status report (UpdateService with `status`, in the reference's shape: no version). */
  report(status: ServiceStatusReport): void;
  /** The service is gone from the store: its last status (DELETED). */
  remove(): void;
  /** Writes the status again (the disk refused it the first time): what happened did happen. */
  persist(): void;
}

export interface ServiceKeepers {
  /** Keeps the status of a new service (stopped); writes nothing until it changes. */
  create(context: ServiceKeeperContext): ServiceKeeper;
  /** Keeps the status of a stored service after a daemon restart. */
  restore(context: ServiceKeeperContext, stored: StoredService): Promise<ServiceKeeper>;
  /** The service was removed: its keeper is no longer needed. */
  forget(keeper: ServiceKeeper): void;
  /** The log of a run of one of these services, if it is here. */
  logSource(logId: string): FileLogSource | undefined;
  close(): void;
}
