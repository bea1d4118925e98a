/**
 * `tend status`: the daemon, its automations file (problems and warnings), the table of `tend ps`,
 * what each STARTING service waits for (and what its last probe printed), and the environment's
 * ports. It exits 1 when the file has problems, a service failed or a task's latest execution
 * failed, and says which.
 */
import { describeOrphans, findOrphans } from '../app/orphans.js';
import { readDaemonInfo, resolveStateDir } from '../app/state-dir.js';
import { CliError, connect } from '../client/api-client.js';
import { describePort, describeWait } from './daemon-facts.js';
import { psTable, readSnapshot, unhealthy } from './ps-command.js';

export { describeWait, getStatus, waitKey, type DaemonStatus } from './daemon-facts.js';

export async function runStatus(options: { stateDir?: string; workspace?: string; json?: boolean }): Promise<void> {
  const stateDir = resolveStateDir(options);
  if (readDaemonInfo(stateDir) === undefined) {
    const orphans = findOrphans(stateDir);
    if (orphans.length > 0) {
      throw new CliError(`No tend daemon is running for ${stateDir}, but ${describeOrphans(orphans)} a previous daemon started still run: \`tend down\` stops them, \`tend up\` takes them over`);
    }
  }
  const client = connect(stateDir);
  const { status, services, latest, rows } = await readSnapshot(client);
  const problems = status.automationsFile?.problems ?? [];
  const failures = unhealthy(rows);
  if (options.json === true) {
    const executions = [...latest.values()];
    process.stdout.write(`${JSON.stringify({ ...status, services, taskExecutions: executions, failures }, null, 2)}\n`);
  } else {
    const lines = [`daemon: ${client.info.url} (pid ${client.info.pid}, environment ${client.info.environmentId})`];
    if (status.daemon?.shell != null) lines.push(`shell: ${status.daemon.shell}`);
    const file = status.automationsFile;
    const warnings = file?.warnings ?? [];
    const health = problems.length === 0 ? `ok${warnings.length === 0 ? '' : ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})`}` : `${problems.length} problem(s), the last good configuration keeps running`;
    lines.push(file === null ? 'automations file: none' : `automations file: ${file.path}: ${health}`);
    lines.push(...problems.map((problem) => `  ${problem}`));
    if (problems.length === 0) lines.push(...warnings.map((warning) => `  warning: ${warning}`));
    if (status.mode === 'serve-only') lines.push('mode: serve-only (a control plane: runners run the services and report their status)');
    const upstream = status.controlPlane;
    if (upstream !== undefined && upstream !== null) {
      lines.push(
        `control plane: ${upstream.url}: ${upstream.connected ? 'connected' : 'not connected'}, last report ${upstream.lastReportAt ?? 'never'}, outbox ${upstream.outboxDepth} pending`,
      );
      if (upstream.lastError !== null) lines.push(`  last error: ${upstream.lastError}`);
    }
    if (rows.length > 0) lines.push('', psTable(rows));
    const waits = status.readiness ?? [];
    if (waits.length > 0) lines.push('', ...waits.map((entry) => `service ${entry.service}: ${describeWait(entry)}`));
    const ports = status.ports ?? [];
    if (ports.length > 0) lines.push('', 'ports:', ...ports.map((port) => `  ${describePort(port)}`));
    if (failures.length > 0) lines.push('', `Not all is well: ${failures.join('; ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (problems.length > 0 || failures.length > 0) process.exitCode = 1;
}
