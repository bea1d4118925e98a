/**
 * The services of one environment: create, read, update, start, stop, delete. Requests change
 * the document (metadata and spec: what is wanted) and are persisted before they are answered;
 * each service's keeper then moves its status toward it. The engine is the only writer of a
 * document, the keeper the only writer of a status. Reads are served from memory.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../domain/logger.js';
import { alreadyExists, failedPrecondition } from '../../domain/errors.js';
import type { CreateServiceRequest, ListServicesRequest, Service, ServiceSpec, ServiceStatusReport, Subject, UpdateServiceRequest } from '../../domain/schema.js';
import { environmentSubject } from '../../domain/subjects.js';
import type { Store } from '../../store/store.js';
import type { FileLogSource } from '../log-source.js';
import { paginate, type Page } from '../pagination.js';
import { checkReadinessTimeout } from '../spec-checks.js';
import type { ServiceKeepers } from './service-keeper.js';
import { ServiceRegistry } from './service-registry.js';
import { dependentsMessage, matchesFilter, mergeUpdate, newServiceDocument, specChanged } from './service-requests.js';

export interface ServiceEngineOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly environmentId: string;
  readonly keepers: ServiceKeepers;
}

export interface ServiceEngineEvents {
  /** A service was created, updated (spec or metadata) or deleted, or its status changed. */
  change: [kind: 'create' | 'update' | 'delete' | 'status', service: Service];
}

export class ServiceEngine extends EventEmitter<ServiceEngineEvents> {
  private readonly registry: ServiceRegistry;
  private dependents: (id: string) => string[] = () => [];

  constructor(private readonly options: ServiceEngineOptions) {
    super();
    this.registry = new ServiceRegistry(options.store, options.keepers, (kind, service) => this.emit('change', kind, service));
  }

  /** Loads the stored services; their keepers recover what a previous daemon left. */
  async load(): Promise<void> {
    for (const stored of this.options.store.services.load()) await this.registry.restore(stored, this.options.environmentId);
    for (const entry of this.registry.all()) entry.keeper.reconcile();
  }

  /** Whether a service of this id exists (tasks may depend on it). */
  has(id: string): boolean {
    return this.registry.get(id) !== undefined;
  }

  /** The disk refused a write of this service's document: memory goes back to what it has. */
  revert(id: string): void {
    this.registry.revert(id);
  }

  /** The disk refused this service's status: it is written again. */
  persistStatus(id: string): void {
    this.registry.get(id)?.keeper.persist();
  }

  /** Stopped for a spec change, to be started again in a new session once it has stopped. */
  restarting(id: string): boolean {
    return this.registry.get(id)?.pendingSpec != null;
  }

  /** Tells which tasks depend on a service, so that it is not deleted under them. */
  setDependents(dependents: (id: string) => string[]): void {
    this.dependents = dependents;
  }

  /** `creator`: the caller (the environment itself for what the automations file makes). */
  create(request: CreateServiceRequest, creator: Subject = environmentSubject(this.options.environmentId)): Service {
    const { environmentId, store } = this.options;
    const taken = (reference: string): boolean => this.registry.withReference(reference) !== undefined;
    return this.registry.view(this.registry.insert(newServiceDocument(request, environmentId, taken, () => store.nextVersion(), creator)));
  }

  get(id: string | undefined): Service {
    return this.registry.view(this.registry.find(id));
  }

  findByReference(reference: string): Service | undefined {
    const entry = this.registry.withReference(reference);
    return entry === undefined ? undefined : this.registry.view(entry);
  }

  all(): Service[] {
    return this.registry.all().map((entry) => this.registry.view(entry));
  }

  list(request: ListServicesRequest): Page<Service> {
    const keyed = this.registry.all().map((entry) => ({ seq: entry.seq, item: this.registry.view(entry) }));
    return paginate(keyed.filter(({ item }) => matchesFilter(item, request.filter ?? {}, this.options.environmentId)), request.pagination, 'services');
  }

  /**
   * Replaces spec fields (from the automations file). A stopped service is updated; a running
   * one is stopped, updated and started again; unchanged fields leave it alone. Returns whether
   * anything changed.
   */
  replaceSpec(id: string, patch: Partial<ServiceSpec>): boolean {
    const entry = this.registry.find(id);
    const current = entry.document.spec;
    if (!specChanged(current, patch)) return false;
    checkReadinessTimeout(patch.readinessTimeout);
    if (!entry.keeper.active) {
      this.registry.save(entry, { spec: { ...current, ...patch } });
      this.emit('change', 'update', this.registry.view(entry));
      return true;
    }
    entry.pendingSpec = patch;
    this.registry.setDesired(entry, { ...current, desiredPhase: 'SERVICE_PHASE_STOPPED' });
    return true;
  }

  /** Metadata and spec; a status report goes through `reportStatus`. */
  update(request: Omit<UpdateServiceRequest, 'status'>): void {
    const entry = this.registry.find(request.id);
    const current = entry.document;
    if (request.spec !== undefined && entry.keeper.active) {
      throw failedPrecondition(`Cannot update the spec of service "${current.metadata.reference}" while it is ${entry.keeper.status.phase}: stop it first`);
    }
    const next = mergeUpdate(current, request);
    if (next === null) return;
    this.registry.save(entry, next);
    this.emit('change', 'update', this.registry.view(entry));
  }

  /** A status report of the runner (UpdateService with `status`), for a keeper that takes them. */
  reportStatus(id: string | undefined, status: ServiceStatusReport): void {
    this.registry.find(id).keeper.report(status);
  }

  /** Idempotent: a service already starting or running (and wanted so) is left alone. */
  start(id: string | undefined): void {
    const entry = this.registry.find(id);
    const { spec } = entry.document;
    if (spec.desiredPhase === 'SERVICE_PHASE_DELETED') {
      throw failedPrecondition(`Cannot start service "${entry.document.metadata.reference}": it is being deleted`);
    }
    if (spec.desiredPhase === 'SERVICE_PHASE_RUNNING' && entry.keeper.up) return;
    this.registry.setDesired(entry, { ...spec, desiredPhase: 'SERVICE_PHASE_RUNNING', session: randomUUID() });
  }

  /** Idempotent: stopping a stopped service does nothing. */
  stop(id: string | undefined): void {
    const entry = this.registry.find(id);
    const { spec } = entry.document;
    if (spec.desiredPhase === 'SERVICE_PHASE_STOPPED' || spec.desiredPhase === 'SERVICE_PHASE_DELETED') return;
    this.registry.setDesired(entry, { ...spec, desiredPhase: 'SERVICE_PHASE_STOPPED' });
  }

  /**
   * The services of `ids`, or every service (undefined), told to stop in one pass: their stops
   * run side by side and share their scans of /proc, as the daemon's own shutdown's do. An
   * unknown id stops none of them. Returns the ids.
   */
  stopMany(ids: readonly string[] | undefined): string[] {
    const entries = ids === undefined ? this.registry.all() : ids.map((id) => this.registry.find(id));
    for (const entry of entries) this.stop(entry.document.id);
    return entries.map((entry) => entry.document.id);
  }

  /** Returns at once; the service is stopped first (at once with force), then it disappears. */
  delete(id: string | undefined, force: boolean): void {
    const entry = this.registry.find(id);
    const dependents = this.dependents(entry.document.id);
    if (dependents.length > 0) throw failedPrecondition(dependentsMessage('service', entry.document.metadata.reference, dependents));
    if (force) entry.keeper.forceStop();
    if (entry.document.spec.desiredPhase === 'SERVICE_PHASE_DELETED') {
      entry.keeper.reconcile();
      return;
    }
    this.registry.setDesired(entry, { ...entry.document.spec, desiredPhase: 'SERVICE_PHASE_DELETED' });
  }

  /**
   * The service of this id becomes this document (runner mode: what its control plane says),
   * created if new. A spec change of a running service that is still wanted running stops it and
   * starts it again with the new spec (in a fresh session unless the document names another one).
   */
  upsert(id: string, document: Pick<Service, 'metadata' | 'spec'>): void {
    const { specVersion: _remote, ...spec } = document.spec;
    const entry = this.registry.get(id);
    if (entry === undefined) {
      const reference = document.metadata.reference ?? '';
      if (this.registry.withReference(reference) !== undefined) throw alreadyExists(`Service with reference "${reference}" already exists`);
      this.registry.insert({ id, environmentId: this.options.environmentId, metadata: document.metadata, spec: { ...spec, specVersion: this.options.store.nextVersion() } });
      return;
    }
    const { specVersion: _local, ...current } = entry.document.spec;
    if (JSON.stringify(document.metadata) === JSON.stringify(entry.document.metadata) && JSON.stringify(spec) === JSON.stringify(current)) return;
    const runsDifferently = specChanged(current, { commands: spec.commands, env: spec.env, runsOn: spec.runsOn, readinessTimeout: spec.readinessTimeout });
    if (runsDifferently && entry.keeper.active && spec.desiredPhase === 'SERVICE_PHASE_RUNNING') {
      const { session, ...rest } = spec;
      entry.pendingSpec = session !== undefined && session !== entry.keeper.status.session ? spec : rest;
      this.registry.save(entry, { metadata: document.metadata });
      this.registry.setDesired(entry, { ...current, desiredPhase: 'SERVICE_PHASE_STOPPED' });
      return;
    }
    this.registry.save(entry, { metadata: document.metadata, spec });
    this.emit('change', 'update', this.registry.view(entry));
    entry.keeper.reconcile();
  }

  /** Stops and deletes a service without the dependents check (its control plane no longer has it). */
  discard(id: string): void {
    const entry = this.registry.get(id);
    if (entry === undefined || entry.document.spec.desiredPhase === 'SERVICE_PHASE_DELETED') return;
    this.registry.setDesired(entry, { ...entry.document.spec, desiredPhase: 'SERVICE_PHASE_DELETED' });
  }

  /** Stops every running (or launching) service in parallel by the stop rules (daemon shutdown). */
  async shutdown(): Promise<void> {
    this.options.keepers.close();
    await Promise.all(this.registry.all().map((entry) => entry.keeper.shutdown()));
  }

  /** The log of a service's run (the current one or an earlier one still on disk). */
  logSource(logId: string): FileLogSource | undefined {
    return this.options.keepers.logSource(logId);
  }
}
