/**
 * The services as the engine holds them: each one's document (the engine is its only writer) and
 * its keeper (the only writer of its status), in memory, written through to the store. What
 * happens once a service is inactive (a spec change that waited for the stop, a deletion) is
 * decided here.
 */
import { randomUUID } from 'node:crypto';
import { notFound } from '../../domain/errors.js';
import type { Service, ServiceSpec, ServiceStatus } from '../../domain/schema.js';
import type { Store, StoredService } from '../../store/store.js';
import { requireId } from '../requests.js';
import type { ServiceDocument, ServiceKeeper, ServiceKeeperContext, ServiceKeepers } from './service-keeper.js';

export interface Entry {
  /** Its position in creation order (the store's; list pages are keyed by it). */
  seq: number;
  document: ServiceDocument;
  keeper: ServiceKeeper;
  /** A spec change waiting for the service to stop (a running service's spec changed). */
  pendingSpec: Partial<ServiceSpec> | null;
  /** The service as the API shows it, made again after any change. */
  view: Service | null;
}

export type ServiceChange = 'create' | 'update' | 'delete' | 'status';

export class ServiceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly byReference = new Map<string, Entry>();

  constructor(
    private readonly store: Store,
    private readonly keepers: ServiceKeepers,
    private readonly emit: (kind: ServiceChange, service: Service) => void,
  ) {}

  /** A stored service, its keeper restored (recovering what a previous daemon left). */
  async restore(stored: StoredService, environmentId: string): Promise<void> {
    const entry = this.entry({ ...stored.service, environmentId });
    entry.seq = stored.seq;
    entry.pendingSpec = stored.pendingSpec;
    entry.keeper = await this.keepers.restore(this.context(entry), stored);
    this.remember(entry);
  }

  /** A new service: stored, then its keeper acts on what it asks for. */
  insert(document: ServiceDocument): Entry {
    const entry = this.entry(document);
    entry.keeper = this.keepers.create(this.context(entry));
    this.store.services.insert(this.view(entry));
    entry.seq = this.store.seqOf('services', document.id);
    this.remember(entry);
    this.emit('create', this.view(entry));
    entry.keeper.reconcile();
    return entry;
  }

  private entry(service: Service | ServiceDocument): Entry {
    const { id, environmentId, metadata, spec } = service;
    return { seq: 0, document: { id, environmentId, metadata, spec }, keeper: undefined as unknown as ServiceKeeper, pendingSpec: null, view: null };
  }

  private remember(entry: Entry): void {
    this.entries.set(entry.document.id, entry);
    this.byReference.set(entry.document.metadata.reference ?? '', entry);
  }

  private context(entry: Entry): ServiceKeeperContext {
    return {
      id: entry.document.id,
      document: () => entry.document,
      // Also while the keeper is being restored (it may already write): the status comes with the call.
      statusChanged: (status: ServiceStatus) => {
        entry.view = { ...entry.document, status };
        this.emit('status', entry.view);
      },
      // While it is being restored the keeper waits: every service is reconciled once all are loaded.
      settled: () => entry.keeper !== undefined && this.settle(entry),
    };
  }

  view(entry: Entry): Service {
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
      this.emit('update', this.view(entry));
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
    this.store.services.delete(id);
    this.entries.delete(id);
    this.byReference.delete(entry.document.metadata.reference ?? '');
    this.keepers.forget(entry.keeper);
    this.emit('delete', this.view(entry));
  }

  /**
   * The disk refused a write of this service's document: memory goes back to what the disk has.
   * A service the disk never took is stopped (at once) and removed; one whose change was refused
   * goes back to its stored document, and its keeper acts on that.
   */
  revert(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    const stored = this.store.services.loadOne(id);
    if (stored === undefined) {
      entry.pendingSpec = null;
      entry.document = { ...entry.document, spec: { ...entry.document.spec, desiredPhase: 'SERVICE_PHASE_DELETED' } };
      entry.view = null;
      entry.keeper.forceStop();
      entry.keeper.reconcile();
      return;
    }
    const { metadata, spec } = stored.service;
    if (metadata.reference !== entry.document.metadata.reference) {
      this.byReference.delete(entry.document.metadata.reference ?? '');
      this.byReference.set(metadata.reference ?? '', entry);
    }
    entry.document = { ...entry.document, metadata, spec };
    entry.pendingSpec = stored.pendingSpec;
    entry.view = null;
    this.emit('update', this.view(entry));
    entry.keeper.reconcile();
  }

  find(id: string | undefined): Entry {
    const entry = this.entries.get(requireId(id, 'service'));
    if (entry === undefined) throw notFound(`Service "${id}" not found`);
    return entry;
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  withReference(reference: string): Entry | undefined {
    return this.byReference.get(reference);
  }

  all(): Entry[] {
    return [...this.entries.values()];
  }

  /** Writes the document (with a spec change that waits, if any); a spec change gets a new specVersion. */
  save(entry: Entry, change: { metadata?: Service['metadata']; spec?: ServiceSpec }): void {
    const spec = change.spec === undefined ? entry.document.spec : { ...change.spec, specVersion: this.store.nextVersion() };
    entry.document = { ...entry.document, metadata: change.metadata ?? entry.document.metadata, spec };
    entry.view = null;
    this.store.services.updateDocument(entry.document, entry.pendingSpec);
  }

  /** Saves what is wanted and lets the keeper act on it. */
  setDesired(entry: Entry, spec: ServiceSpec): void {
    this.save(entry, { spec });
    this.emit('update', this.view(entry));
    entry.keeper.reconcile();
  }
}
