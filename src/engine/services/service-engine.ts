/**
 * The services of one environment: create, read, update, start, stop, delete. Requests change
 * the document (metadata and spec: what is wanted) and are persisted before they are answered;
 * each service's keeper then moves its status toward it. The engine is the only writer of a
 * document, the keeper the only writer of a status. Reads are served from memory.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { alreadyExists, failedPrecondition, notFound } from '../../domain/errors.js';
import type { CreateServiceRequest, ListServicesRequest, Service, ServiceSpec, ServiceStatus, ServiceStatusReport, Subject, UpdateServiceRequest } from '../../domain/schema.js';
import { environmentSubject } from '../../domain/subjects.js';
import type { Store } from '../../store/store.js';
import type { FileLogSource } from '../log-source.js';
import { paginate, type Page } from '../pagination.js';
import { requireId } from '../requests.js';
import { checkReadinessTimeout } from '../spec-checks.js';
import type { ServiceDocument, ServiceKeeper, ServiceKeepers } from './service-keeper.js';
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

interface Entry {
  /** Its position in creation order (the store's, list pages are keyed by it). */
  seq: number;
  document: ServiceDocument;
  keeper: ServiceKeeper;
  /** A spec change waiting for the service to stop (a running service's spec changed). */
  pendingSpec: Partial<ServiceSpec> | null;
  /** The service as the API shows it, made again after any change. */
  view: Service | null;
}

export class ServiceEngine extends EventEmitter<ServiceEngineEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly byReference = new Map<string, Entry>();
  private dependents: (id: string) => string[] = () => [];

  constructor(private readonly options: ServiceEngineOptions) {
    super();
  }

  /** Loads the stored services; their keepers recover what a previous daemon left. */
  async load(): Promise<void> {
    for (const stored of this.options.store.loadServices()) {
      const entry = this.entry({ ...stored.service, environmentId: this.options.environmentId }, stored.seq);
      entry.keeper = await this.options.keepers.restore(this.context(entry), stored);
      this.remember(entry);
    }
    for (const entry of [...this.entries.values()]) entry.keeper.reconcile();
  }

  private entry(service: Service | ServiceDocument, seq = 0): Entry {
    const { id, environmentId, metadata, spec } = service;
    return { seq, document: { id, environmentId, metadata, spec }, keeper: undefined as unknown as ServiceKeeper, pendingSpec: null, view: null };
  }

  private remember(entry: Entry): void {
    this.entries.set(entry.document.id, entry);
    this.byReference.set(entry.document.metadata.reference ?? '', entry);
  }

  private context(entry: Entry) {
    return {
      id: entry.document.id,
      document: () => entry.document,
      // Also while the keeper is being restored (it may already write): the status comes with the call.
      statusChanged: (status: ServiceStatus) => {
        entry.view = { ...entry.document, status };
        this.emit('change', 'status', entry.view);
      },
      settled: () => this.settle(entry),
    };
  }

  private view(entry: Entry): Service {
    entry.view ??= { ...entry.document, status: entry.keeper.status };
    return entry.view;
  }

  /** The service is inactive: a spec that waited for the stop is applied, a deletion completes. */
  private settle(entry: Entry): boolean {
    if (entry.pendingSpec !== null) {
      const patch = entry.pendingSpec;
      entry.pendingSpec = null;
      // A mirrored spec brings its own desired phase and session; a file's patch does not.
      this.save(entry, { spec: { ...entry.document.spec, desiredPhase: 'SERVICE_PHASE_RUNNING', session: randomUUID(), ...patch } });
      this.emit('change', 'update', this.view(entry));
      entry.keeper.reconcile();
      return true;
    }
    if (entry.document.spec.desiredPhase !== 'SERVICE_PHASE_DELETED') return false;
    this.remove(entry);
    return true;
  }

  private remove(entry: Entry): void {
    const id = entry.document.id;
    if (this.entries.get(id) !== entry) return;
    entry.keeper.remove();
    this.options.store.deleteService(id);
    this.entries.delete(id);
    this.byReference.delete(entry.document.metadata.reference ?? '');
    this.options.keepers.forget(entry.keeper);
    this.emit('change', 'delete', this.view(entry));
  }

  private find(id: string | undefined): Entry {
    const entry = this.entries.get(requireId(id, 'service'));
    if (entry === undefined) throw notFound(`Service "${id}" not found`);
    return entry;
  }

  /** Writes the document; a spec change gets a new specVersion. */
  private save(entry: Entry, change: { metadata?: Service['metadata']; spec?: ServiceSpec }): void {
    const spec = change.spec === undefined ? entry.document.spec : { ...change.spec, specVersion: this.options.store.nextVersion() };
    entry.document = { ...entry.document, metadata: change.metadata ?? entry.document.metadata, spec };
    entry.view = null;
    this.options.store.updateServiceDocument(entry.document);
  }

  private setDesired(entry: Entry, spec: ServiceSpec): void {
    this.save(entry, { spec });
    this.emit('change', 'update', this.view(entry));
    entry.keeper.reconcile();
  }

  /** Whether a service of this id exists (tasks may depend on it). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Tells which tasks depend on a service, so that it is not deleted under them. */
  setDependents(dependents: (id: string) => string[]): void {
    this.dependents = dependents;
  }

  /** `creator`: the caller (the environment itself for what the automations file makes). */
  create(request: CreateServiceRequest, creator: Subject = environmentSubject(this.options.environmentId)): Service {
    const { environmentId, store } = this.options;
    return this.insert(newServiceDocument(request, environmentId, (reference) => this.byReference.has(reference), () => store.nextVersion(), creator));
  }

  private insert(document: ServiceDocument): Service {
    const entry = this.entry(document);
    entry.keeper = this.options.keepers.create(this.context(entry));
    this.options.store.insertService(this.view(entry));
    entry.seq = this.options.store.seqOf('services', document.id);
    this.remember(entry);
    this.emit('change', 'create', this.view(entry));
    entry.keeper.reconcile();
    return this.view(entry);
  }

  get(id: string | undefined): Service {
    return this.view(this.find(id));
  }

  findByReference(reference: string): Service | undefined {
    const entry = this.byReference.get(reference);
    return entry === undefined ? undefined : this.view(entry);
  }

  all(): Service[] {
    return [...this.entries.values()].map((entry) => this.view(entry));
  }

  list(request: ListServicesRequest): Page<Service> {
    const keyed = [...this.entries.values()].map((entry) => ({ seq: entry.seq, item: this.view(entry) }));
    return paginate(keyed.filter(({ item }) => matchesFilter(item, request.filter ?? {}, this.options.environmentId)), request.pagination, 'services');
  }

  /**
   * Replaces spec fields (from the automations file). A stopped service is updated; a running
   * one is stopped, updated and started again; unchanged fields leave it alone. Returns whether
   * anything changed.
   */
  replaceSpec(id: string, patch: Partial<ServiceSpec>): boolean {
    const entry = this.find(id);
    const current = entry.document.spec;
    if (!specChanged(current, patch)) return false;
    checkReadinessTimeout(patch.readinessTimeout);
    if (!entry.keeper.active) {
      this.save(entry, { spec: { ...current, ...patch } });
      this.emit('change', 'update', this.view(entry));
      return true;
    }
    entry.pendingSpec = patch;
    this.setDesired(entry, { ...current, desiredPhase: 'SERVICE_PHASE_STOPPED' });
    return true;
  }

  /** Metadata and spec; a status report goes through `reportStatus`. */
  update(request: Omit<UpdateServiceRequest, 'status'>): void {
    const entry = this.find(request.id);
    const current = entry.document;
    if (request.spec !== undefined && entry.keeper.active) {
      throw failedPrecondition(`Cannot update the spec of service "${current.metadata.reference}" while it is ${entry.keeper.status.phase}: stop it first`);
    }
    const next = mergeUpdate(current, request);
    if (next === null) return;
    this.save(entry, next);
    this.emit('change', 'update', this.view(entry));
  }

  /** A status report of the runner (UpdateService with `status`), for a keeper that takes them. */
  reportStatus(id: string | undefined, status: ServiceStatusReport): void {
    this.find(id).keeper.report(status);
  }

  /** Idempotent: a service already starting or running (and wanted so) is left alone. */
  start(id: string | undefined): void {
    const entry = this.find(id);
    const { spec } = entry.document;
    if (spec.desiredPhase === 'SERVICE_PHASE_DELETED') {
      throw failedPrecondition(`Cannot start service "${entry.document.metadata.reference}": it is being deleted`);
    }
    if (spec.desiredPhase === 'SERVICE_PHASE_RUNNING' && entry.keeper.up) return;
    this.setDesired(entry, { ...spec, desiredPhase: 'SERVICE_PHASE_RUNNING', session: randomUUID() });
  }

  /** Idempotent: stopping a stopped service does nothing. */
  stop(id: string | undefined): void {
    const entry = this.find(id);
    const { spec } = entry.document;
    if (spec.desiredPhase === 'SERVICE_PHASE_STOPPED' || spec.desiredPhase === 'SERVICE_PHASE_DELETED') return;
    this.setDesired(entry, { ...spec, desiredPhase: 'SERVICE_PHASE_STOPPED' });
  }

  /** Returns at once; the service is stopped first (at once with force), then it disappears. */
  delete(id: string | undefined, force: boolean): void {
    const entry = this.find(id);
    const dependents = this.dependents(entry.document.id);
    if (dependents.length > 0) throw failedPrecondition(dependentsMessage('service', entry.document.metadata.reference, dependents));
    if (force) entry.keeper.forceStop();
    if (entry.document.spec.desiredPhase === 'SERVICE_PHASE_DELETED') {
      entry.keeper.reconcile();
      return;
    }
    this.setDesired(entry, { ...entry.document.spec, desiredPhase: 'SERVICE_PHASE_DELETED' });
  }

  /**
   * The service of this id becomes this document (runner mode: what its control plane says),
   * created if new. A spec change of a running service that is still wanted running stops it and
   * starts it again with the new spec (in a fresh session unless the document names another one).
   */
  upsert(id: string, document: Pick<Service, 'metadata' | 'spec'>): void {
    const { specVersion: _remote, ...spec } = document.spec;
    const entry = this.entries.get(id);
    if (entry === undefined) {
      const reference = document.metadata.reference ?? '';
      if (this.byReference.has(reference)) throw alreadyExists(`Service with reference "${reference}" already exists`);
      this.insert({ id, environmentId: this.options.environmentId, metadata: document.metadata, spec: { ...spec, specVersion: this.options.store.nextVersion() } });
      return;
    }
    const { specVersion: _local, ...current } = entry.document.spec;
    if (JSON.stringify(document.metadata) === JSON.stringify(entry.document.metadata) && JSON.stringify(spec) === JSON.stringify(current)) return;
    const runsDifferently = specChanged(current, { commands: spec.commands, env: spec.env, runsOn: spec.runsOn, readinessTimeout: spec.readinessTimeout });
    if (runsDifferently && entry.keeper.active && spec.desiredPhase === 'SERVICE_PHASE_RUNNING') {
      const { session, ...rest } = spec;
      entry.pendingSpec = session !== undefined && session !== entry.keeper.status.session ? spec : rest;
      this.save(entry, { metadata: document.metadata });
      this.setDesired(entry, { ...current, desiredPhase: 'SERVICE_PHASE_STOPPED' });
      return;
    }
    this.save(entry, { metadata: document.metadata, spec });
    this.emit('change', 'update', this.view(entry));
    entry.keeper.reconcile();
  }

  /** Stops and deletes a service without the dependents check (its control plane no longer has it). */
  discard(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.document.spec.desiredPhase === 'SERVICE_PHASE_DELETED') return;
    this.setDesired(entry, { ...entry.document.spec, desiredPhase: 'SERVICE_PHASE_DELETED' });
  }

  /** Stops every running service in parallel by the stop rules (daemon shutdown). */
  async shutdown(): Promise<void> {
    this.options.keepers.close();
    await Promise.all([...this.entries.values()].filter((entry) => entry.keeper.active).map((entry) => entry.keeper.shutdown()));
  }

  /** The log of a service's run (the current one or an earlier one still on disk). */
  logSource(logId: string): FileLogSource | undefined {
    return this.options.keepers.logSource(logId);
  }
}
