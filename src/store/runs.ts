/**
 * The runs whose logs tend serves: a service's sessions (by run id) and executions (by their id),
 * with the secret values each used, so that a log is masked with its own run's secrets whatever
 * run it is and after a daemon restart too. The values are as safe here as in `secrets/`: the
 * store is its owner's only (0600).
 */
import type Database from 'better-sqlite3';

export class RunsTable {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly write: (apply: () => void) => void,
  ) {
    this.statements = {
      upsert: db.prepare<[string, string, string]>(
        'INSERT INTO runs (log_id, owner, secrets) VALUES (?, ?, ?) ON CONFLICT (log_id) DO UPDATE SET secrets = excluded.secrets',
      ),
      secrets: db.prepare<[string], { secrets: string }>('SELECT secrets FROM runs WHERE log_id = ?'),
      older: db.prepare<[string, number], { log_id: string }>(
        'SELECT log_id FROM runs WHERE owner = ? ORDER BY seq DESC LIMIT -1 OFFSET ?',
      ),
      ofOwner: db.prepare<[string], { log_id: string }>('SELECT log_id FROM runs WHERE owner = ?'),
      delete: db.prepare<[string]>('DELETE FROM runs WHERE log_id = ?'),
    };
  }

  /** Records a run (or its secrets as they grew). */
  record(logId: string, owner: string, secrets: readonly string[]): void {
    this.write(() => this.statements.upsert.run(logId, owner, JSON.stringify(secrets)));
  }

  /** The secret values a run's log is masked with ([] for a run that used none or is unknown). */
  secrets(logId: string): string[] {
    const row = this.statements.secrets.get(logId);
    return row === undefined ? [] : (JSON.parse(row.secrets) as string[]);
  }

  /** Forgets the runs of `owner` but its newest `keep`; returns their log ids. */
  prune(owner: string, keep: number): string[] {
    const ids = this.statements.older.all(owner, keep).map((row) => row.log_id);
    if (ids.length > 0) this.write(() => ids.forEach((id) => this.statements.delete.run(id)));
    return ids;
  }

  /** Forgets every run of `owner`; returns their log ids. */
  forget(owner: string): string[] {
    const ids = this.statements.ofOwner.all(owner).map((row) => row.log_id);
    if (ids.length > 0) this.write(() => ids.forEach((id) => this.statements.delete.run(id)));
    return ids;
  }
}
