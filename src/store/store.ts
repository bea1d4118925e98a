/**
 * The durable store: one SQLite file per workspace state directory (WAL, synchronous=FULL, so a
 * write that a response acknowledges has reached the disk). Documents are kept as JSON in the
 * API's own shape; versions come from one persisted counter, so every specVersion and
 * statusVersion is larger than any handed out before, across restarts too.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcessIdentity } from '../domain/service-lifecycle.js';
import type { Service, ServiceMetadata, ServiceSpec, ServiceStatus } from '../domain/schema.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
   CREATE TABLE services (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     reference TEXT NOT NULL UNIQUE,
     metadata TEXT NOT NULL,
     spec TEXT NOT NULL,
     status TEXT NOT NULL,
     process TEXT
   ) STRICT;`,
];

/** The process record of a service's current session, kept so a restarted daemon can find it. */
export interface ServiceProcessRecord {
  readonly session: string;
  readonly identity: ProcessIdentity;
  readonly logPath: string;
}

export interface StoredService {
  readonly service: Service;
  readonly process: ServiceProcessRecord | null;
}

interface ServiceRow {
  id: string;
  metadata: string;
  spec: string;
  status: string;
  process: string | null;
}

export class Store {
  readonly path: string;
  private readonly db: Database.Database;
  private version: bigint;
  private readonly statements;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.path = path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.statements = {
      getMeta: this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare<[string, string]>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      insertService: this.db.prepare<[string, string, string, string, string]>(
        'INSERT INTO services (id, reference, metadata, spec, status) VALUES (?, ?, ?, ?, ?)',
      ),
      updateServiceDoc: this.db.prepare<[string, string, string, string]>(
        'UPDATE services SET reference = ?, metadata = ?, spec = ? WHERE id = ?',
      ),
      updateServiceStatus: this.db.prepare<[string, string | null, string]>(
        'UPDATE services SET status = ?, process = ? WHERE id = ?',
      ),
      deleteService: this.db.prepare<[string]>('DELETE FROM services WHERE id = ?'),
      allServices: this.db.prepare<[], ServiceRow>(
        'SELECT id, metadata, spec, status, process FROM services ORDER BY seq',
      ),
    };
    this.version = BigInt(this.statements.getMeta.get('version')?.value ?? '0');
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let index = current; index < MIGRATIONS.length; index++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[index]!);
        this.db.pragma(`user_version = ${index + 1}`);
      })();
    }
  }

  /** The environment id: GITPOD_ENVIRONMENT_ID when given, else generated once and kept. */
  environmentId(preferred?: string): string {
    const stored = this.statements.getMeta.get('environment_id')?.value;
    if (preferred !== undefined && preferred !== '' && preferred !== stored) {
      this.statements.setMeta.run('environment_id', preferred);
      return preferred;
    }
    if (stored !== undefined) return stored;
    const id = randomUUID();
    this.statements.setMeta.run('environment_id', id);
    return id;
  }

  /** A fresh version, larger than every one handed out before. Persisted with the write it serves. */
  nextVersion(): string {
    this.version += 1n;
    return this.version.toString();
  }

  private saveVersion(): void {
    this.statements.setMeta.run('version', this.version.toString());
  }

  loadServices(): StoredService[] {
    return this.statements.allServices.all().map((row) => ({
      service: {
        id: row.id,
        environmentId: '',
        metadata: JSON.parse(row.metadata) as ServiceMetadata,
        spec: JSON.parse(row.spec) as ServiceSpec,
        status: JSON.parse(row.status) as ServiceStatus,
      },
      process: row.process === null ? null : (JSON.parse(row.process) as ServiceProcessRecord),
    }));
  }

  insertService(service: Service): void {
    this.db.transaction(() => {
      this.statements.insertService.run(
        service.id,
        service.metadata.reference ?? '',
        JSON.stringify(service.metadata),
        JSON.stringify(service.spec),
        JSON.stringify(service.status),
      );
      this.saveVersion();
    })();
  }

  updateServiceDocument(service: Service): void {
    this.db.transaction(() => {
      this.statements.updateServiceDoc.run(
        service.metadata.reference ?? '',
        JSON.stringify(service.metadata),
        JSON.stringify(service.spec),
        service.id,
      );
      this.saveVersion();
    })();
  }

  updateServiceStatus(id: string, status: ServiceStatus, process: ServiceProcessRecord | null): void {
    this.db.transaction(() => {
      this.statements.updateServiceStatus.run(
        JSON.stringify(status),
        process === null ? null : JSON.stringify(process),
        id,
      );
      this.saveVersion();
    })();
  }

  deleteService(id: string): void {
    this.statements.deleteService.run(id);
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    this.db.close();
  }
}
