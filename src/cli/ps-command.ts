/**
 * `tend ps`: every service and task in one table (kind, name, phase, pid, uptime, ports, a
 * one-line reason), as `docker compose ps` shows containers. `tend status` prints the same table
 * under the daemon's own state.
 */
import { resolveStateDir } from '../app/state-dir.js';
import type { ApiClient } from '../client/api-client.js';
import { connect } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import { getStatus, listPorts, type DaemonStatus, type PortEntry } from './daemon-facts.js';
import { printJson } from './output.js';
import { resourceRows, type ResourceRow } from './resource-rows.js';
import { formatTable, terminalWidth } from './table.js';

export interface Snapshot {
  readonly status: DaemonStatus & Record<string, unknown>;
  readonly services: Service[];
  readonly tasks: Task[];
  readonly latest: Map<string, TaskExecution>;
  readonly ports: PortEntry[];
  readonly rows: ResourceRow[];
}

/** Everything `ps` and `status` show, read once. */
export async function readSnapshot(client: ApiClient): Promise<Snapshot> {
  const [status, services, tasks, ports] = await Promise.all([
    getStatus(client),
    listAll<Service>(client.call, 'ListServices', 'services'),
    listAll<Task>(client.call, 'ListTasks', 'tasks'),
    listPorts(client).catch(() => []),
  ]);
  const latest = new Map<string, TaskExecution>();
  await Promise.all(
    tasks.map(async (task) => {
      const page = await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', { filter: { taskIds: [task.id] }, pagination: { pageSize: 1 } });
      const execution = page.taskExecutions?.[0];
      if (execution !== undefined) latest.set(task.id, execution);
    }),
  );
  const rows = resourceRows({ services, tasks, latestExecution: (id) => latest.get(id), status, ports, now: Date.now() });
  return { status, services, tasks, latest, ports, rows };
}

export function psTable(rows: readonly ResourceRow[]): string {
  const cells = rows.map((row) => [
    row.kind,
    row.name,
    row.phase,
    row.pid === null ? '' : String(row.pid),
    row.uptime,
    row.ports.join(','),
    row.reason,
  ]);
  return formatTable(['KIND', 'NAME', 'PHASE', 'PID', 'UPTIME', 'PORTS', 'REASON'], cells, { maxWidth: terminalWidth() });
}

/** What is not well: failed services, tasks whose latest execution failed. Empty when all is well. */
export function unhealthy(rows: readonly ResourceRow[]): string[] {
  return rows
    .filter((row) => row.phase === 'failed')
    .map((row) => (row.kind === 'service' ? `service "${row.name}" failed` : `the latest execution of task "${row.name}" failed`) + (row.reason === '' ? '' : ` (${row.reason})`));
}

export async function runPs(options: { stateDir?: string; workspace?: string; json?: boolean }): Promise<void> {
  const client = connect(resolveStateDir(options));
  const snapshot = await readSnapshot(client);
  if (options.json === true) {
    return printJson(
      snapshot.rows.map((row) => ({
        kind: row.kind,
        id: row.id,
        name: row.name,
        phase: row.phase,
        pid: row.pid,
        uptime: row.uptime,
        ports: row.ports,
        exitCode: row.exitCode,
        reason: row.reason,
      })),
    );
  }
  process.stdout.write(snapshot.rows.length === 0 ? 'No services or tasks: the automations file defines none\n' : `${psTable(snapshot.rows)}\n`);
}
