/**
 * The services of the store: each one's document and status as JSON in the API's own shape, its
 * last run (so a restarted daemon finds its processes, log and outputs) and a spec change that
 * waits for it to stop, in creation order.
 */
import type Database from 'better-sqlite3';
import type { Service, ServiceMetadata, ServiceSpec, ServiceStatus } from '../domain/schema.js';
import type { ServiceRunRecord } from '../domain/session-record.js';
import { parseRunRecord } from './records.js';

export interface StoredService {
  /** The row's position in creation order (pages are keyed by it). */
  readonly seq: number;
  readonly service: Service;
  /** Its last run, so a restarted daemon can find it (and its log and outputs). */
  readonly run: ServiceRunRecord | null;
  /** A spec change waiting for the service to stop. */
  readonly pendingSpec: Partial<ServiceSpec> | null;
}

interface ServiceRow {
  seq: number;
  id: string;
  metadata: string;
  spec: string;
  status: string;
  process: string | null;
  pending_spec: string | null;
}

/** The store's write: `apply` in the tick's transaction, `touch` what it changes (for a rollback). */
type Write = (apply: () => void, touch: readonly ['service' | 'service-status', string]) => void;

function storedService(row: ServiceRow): StoredService {
  return {
    seq: row.seq,
    service: {
      id: row.id,
      environmentId: '',
      metadata: JSON.parse(row.metadata) as ServiceMetadata,
      spec: JSON.parse(row.spec) as ServiceSpec,
      status: JSON.parse(row.status) as ServiceStatus,
    },
    run: parseRunRecord(row.process),
    pendingSpec: row.pending_spec === null ? null : (JSON.parse(row.pending_spec) as Partial<ServiceSpec>),
  };
}

const COLUMNS = 'seq, id, metadata, spec, status, process, pending_spec';

export class ServicesTable {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly write: Write,
  ) {
    this.statements = {
      insert: db.prepare<[string, string, string, string, string]>(
        'INSERT INTO services (id, reference, metadata, spec, status) VALUES (?, ?, ?, ?, ?)',
      ),
      updateDocument: db.prepare<[string, string, string, string | null, string]>(
        'UPDATE services SET reference = ?, metadata = ?, spec = ?, pending_spec = ? WHERE id = ?',
      ),
      updateStatus: db.prepare<[string, string | null, string]>('UPDATE services SET status = ?, process = ? WHERE id = ?'),
      delete: db.prepare<[string]>('DELETE FROM services WHERE id = ?'),
      all: db.prepare<[], ServiceRow>(`SELECT ${COLUMNS} FROM services ORDER BY seq`),
      one: db.prepare<[string], ServiceRow>(`SELECT ${COLUMNS} FROM services WHERE id = ?`),
    };
  }

  load(): StoredService[] {
    return this.statements.all.all().map(storedService);
  }

  /** One service as the disk has it (after a refused write: what memory goes back to). */
  loadOne(id: string): StoredService | undefined {
    const row = this.statements.one.get(id);
    return row === undefined ? undefined : storedService(row);
  }

  insert(service: Service): void {
    this.write(() => {
      this.statements.insert.run(
        service.id,
        service.metadata.reference ?? '',
        JSON.stringify(service.metadata),
        JSON.stringify(service.spec),
        JSON.stringify(service.status),
      );
    }, ['service', service.id]);
  }

  /** The document, with the spec change that waits for the service to stop (or null). */
  updateDocument(service: Pick<Service, 'id' | 'metadata' | 'spec'>, pendingSpec: Partial<ServiceSpec> | null = null): void {
    this.write(() => {
      this.statements.updateDocument.run(
        service.metadata.reference ?? '',
        JSON.stringify(service.metadata),
        JSON.stringify(service.spec),
        pendingSpec === null ? null : JSON.stringify(pendingSpec),
        service.id,
      );
    }, ['service', service.id]);
  }

  updateStatus(id: string, status: ServiceStatus, run: ServiceRunRecord | null): void {
    this.write(() => {
      this.statements.updateStatus.run(JSON.stringify(status), run === null ? null : JSON.stringify(run), id);
    }, ['service-status', id]);
  }

  delete(id: string): void {
    this.write(() => this.statements.delete.run(id), ['service', id]);
  }
}
