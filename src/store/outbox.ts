/**
 * The reporter's durable outbox (runner mode): the latest status of each resource not yet
 * acknowledged by the control plane, queued in the transaction of the status change it reports,
 * and the last report the control plane took of each resource (what the next one is a change
 * against). A newer status replaces the queued one; an older one never replaces a newer.
 */
import type Database from 'better-sqlite3';

/** What the outbox holds: the latest status of one resource, not yet acknowledged upstream. */
export interface OutboxEntry {
  readonly kind: 'service' | 'execution';
  readonly id: string;
  readonly version: bigint;
  /** The status as JSON text: parsed only when it is sent (most rows of a pass wait). */
  readonly body: string;
}

export class OutboxTable {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly write: (apply: () => void) => void,
  ) {
    this.statements = {
      enqueue: db.prepare<[string, string, bigint, string]>(
        `INSERT INTO outbox (kind, id, version, body) VALUES (?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, body = excluded.body
         WHERE excluded.version > outbox.version`,
      ),
      entries: db.prepare<[], { kind: string; id: string; version: bigint; body: string }>('SELECT kind, id, version, body FROM outbox ORDER BY version').safeIntegers(),
      depth: db.prepare<[], { depth: number }>('SELECT count(*) AS depth FROM outbox'),
      delivered: db.prepare<[string, string, bigint]>('DELETE FROM outbox WHERE kind = ? AND id = ? AND version = ?'),
      getDelivered: db.prepare<[string, string], { body: string }>('SELECT body FROM delivered_reports WHERE kind = ? AND id = ?'),
      setDelivered: db.prepare<[string, string, string]>(
        'INSERT INTO delivered_reports (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body',
      ),
      forgetDelivered: db.prepare<[string, string]>('DELETE FROM delivered_reports WHERE kind = ? AND id = ?'),
    };
  }

  /** Queues a status report in the transaction of the status change it reports. */
  enqueue(kind: OutboxEntry['kind'], id: string, version: string, body: unknown): void {
    this.write(() => this.statements.enqueue.run(kind, id, BigInt(version), JSON.stringify(body)));
  }

  /** Every queued report, oldest version first. */
  entries(): OutboxEntry[] {
    return this.statements.entries.all().map((row) => ({ kind: row.kind as OutboxEntry['kind'], id: row.id, version: row.version, body: row.body }));
  }

  depth(): number {
    return this.statements.depth.get()?.depth ?? 0;
  }

  /**
   * Removes a delivered report, unless a newer status of the resource was queued meanwhile. `sent`:
   * what the control plane took (kept as the resource's last delivered report; null forgets it).
   */
  delivered(entry: Pick<OutboxEntry, 'kind' | 'id' | 'version'>, sent?: unknown): void {
    this.write(() => {
      this.statements.delivered.run(entry.kind, entry.id, entry.version);
      if (sent === null) this.statements.forgetDelivered.run(entry.kind, entry.id);
      else if (sent !== undefined) this.statements.setDelivered.run(entry.kind, entry.id, JSON.stringify(sent));
    });
  }

  /** The last report of a resource that the control plane took, if any. */
  lastDelivered(kind: OutboxEntry['kind'], id: string): unknown {
    const row = this.statements.getDelivered.get(kind, id);
    return row === undefined ? undefined : JSON.parse(row.body);
  }
}
