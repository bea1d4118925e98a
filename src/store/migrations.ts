/** The store's schema: an append-only list of migrations, applied in order by `user_version`. */
export const MIGRATIONS: readonly string[] = [
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
  `CREATE TABLE tasks (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     reference TEXT NOT NULL UNIQUE,
     depends_on TEXT NOT NULL,
     metadata TEXT NOT NULL,
     spec TEXT NOT NULL
   ) STRICT;
   CREATE TABLE task_executions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     finished INTEGER NOT NULL,
     metadata TEXT NOT NULL,
     spec TEXT NOT NULL,
     status TEXT NOT NULL,
     processes TEXT NOT NULL
   ) STRICT;`,
  // Status reports waiting for the control plane: one row per resource, only its latest status.
  `CREATE TABLE outbox (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     version INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (kind, id)
   ) STRICT;`,
  // A spec change acknowledged while the service ran: it is applied once the service has stopped,
  // also by the next daemon after a crash.
  `ALTER TABLE services ADD COLUMN pending_spec TEXT;`,
  // Every run whose log tend serves (a service's session, an execution): the secret values to mask
  // it with, whatever run it is and after a restart too; and which service or execution it is of.
  `CREATE TABLE runs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     log_id TEXT NOT NULL UNIQUE,
     owner TEXT NOT NULL,
     secrets TEXT NOT NULL
   ) STRICT;
   CREATE INDEX runs_owner ON runs (owner, seq);`,
  // The last report the control plane took of each resource (what its next report must clear).
  `CREATE TABLE delivered_reports (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (kind, id)
   ) STRICT;`,
];

