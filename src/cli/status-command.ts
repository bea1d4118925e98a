/**
 * `tend status`: the daemon, its automations file (problems and warnings), what runs, what each
 * STARTING service waits for (and what its last probe printed), and the environment's ports.
 * Also the daemon status's wire shape (tend.v1.DaemonService/GetStatus) as the CLI reads it.
 */
import { describeOrphans, findOrphans } from '../app/orphans.js';
import { readDaemonInfo, resolveStateDir } from '../app/state-dir.js';
import type { Service, TaskExecution } from '../domain/schema.js';
import { CliError, connect, type ApiClient } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { shortEnum } from './table.js';

/** What a STARTING service waits for (GetStatus `readiness`). */
export interface ReadinessEntry {
  readonly serviceId: string;
  readonly service: string;
  readonly readyCommand: string;
  readonly waitingSince: string;
  readonly probes: number;
  readonly readinessTimeout: string | null;
  readonly lastProbe: { exitCode: number | null; output: string; killedAtBound: boolean; endedAt: string } | null;
}

export interface PortEntry {
  readonly port: number;
  readonly name: string;
  readonly url: string;
  readonly listening: boolean;
  readonly openedBy: { runId: string | null; serviceId: string | null; service: string | null };
}

export interface DaemonStatus {
  automationsFile: { path: string; problems: string[]; warnings?: string[] } | null;
  mode?: string;
  daemon?: { shell?: string | null };
  controlPlane?: { url: string; connected: boolean; lastReportAt: string | null; outboxDepth: number; lastError: string | null } | null;
  firedTriggers?: string[];
  readiness?: ReadinessEntry[];
  ports?: PortEntry[];
}

export function getStatus(client: ApiClient): Promise<DaemonStatus & Record<string, unknown>> {
  return client.call('GetStatus', {}, 'tend.v1.DaemonService');
}

/** `42s`, `3m05s`, `1h02m`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** The last non-empty line of a probe's output, short enough for one line. */
function lastLine(output: string): string {
  const line = output.trimEnd().split('\n').at(-1)?.trim() ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** What the last probe said, in words: `3 probes so far, the last exited 2: no response`. */
export function describeLastProbe(entry: ReadinessEntry): string {
  const probe = entry.lastProbe;
  if (probe === null) return 'no probe has ended yet';
  const how = probe.killedAtBound ? 'was killed at the per-probe bound' : probe.exitCode === null ? 'was killed' : `exited ${probe.exitCode}`;
  const said = lastLine(probe.output);
  return `${entry.probes} probe${entry.probes === 1 ? '' : 's'} so far, the last ${how}${said === '' ? ' and printed nothing' : `: ${said}`}`;
}

/** One line: what the service waits for, since when, and what its last probe said. */
export function describeWait(entry: ReadinessEntry, now = Date.now()): string {
  const since = formatElapsed(now - Date.parse(entry.waitingSince));
  const timeout = entry.readinessTimeout === null ? 'no readiness timeout' : `readiness timeout ${entry.readinessTimeout}`;
  return `waiting for ready command "${entry.readyCommand}" since ${since} (${timeout}); ${describeLastProbe(entry)}`;
}

/** What a change of the wait is: the last probe's exit and output (not its count, nor the time). */
export function waitKey(entry: ReadinessEntry): string {
  return JSON.stringify([entry.lastProbe?.exitCode, entry.lastProbe?.killedAtBound, entry.lastProbe?.output]);
}

export function describePort(port: PortEntry): string {
  const by = port.openedBy.service !== null ? ` (service ${port.openedBy.service})` : '';
  return `${port.port} ${port.name === '' ? '-' : port.name} ${port.url}${by}${port.listening ? '' : ' (nothing listens on it now)'}`;
}

function finishedExecution(execution: TaskExecution): boolean {
  return ['TASK_EXECUTION_PHASE_SUCCEEDED', 'TASK_EXECUTION_PHASE_FAILED', 'TASK_EXECUTION_PHASE_STOPPED'].includes(execution.status.phase);
}

export async function runStatus(options: { stateDir?: string; workspace?: string; json?: boolean }): Promise<void> {
  const stateDir = resolveStateDir(options);
  if (readDaemonInfo(stateDir) === undefined) {
    const orphans = findOrphans(stateDir);
    if (orphans.length > 0) {
      throw new CliError(`No tend daemon is running for ${stateDir}, but ${describeOrphans(orphans)} a previous daemon started still run: \`tend down\` stops them, \`tend up\` takes them over`);
    }
  }
  const client = connect(stateDir);
  const status = await getStatus(client);
  const services = await listAll<Service>(client.call, 'ListServices', 'services');
  const executions = (await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', { pagination: { pageSize: 100 } })).taskExecutions ?? [];
  const problems = status.automationsFile?.problems ?? [];
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({ ...status, services, taskExecutions: executions }, null, 2)}\n`);
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
    const waiting = new Map((status.readiness ?? []).map((entry) => [entry.serviceId, entry]));
    for (const service of services) {
      lines.push(`service ${service.metadata.reference}: ${shortEnum(service.status.phase, 'SERVICE_PHASE_')}`);
      const wait = waiting.get(service.id);
      if (wait !== undefined) lines.push(`  ${describeWait(wait)}`);
    }
    const running = executions.filter((execution) => !finishedExecution(execution)).length;
    lines.push(`task executions: ${executions.length} in history, ${running} running`);
    const ports = status.ports ?? [];
    if (ports.length > 0) lines.push('ports:', ...ports.map((port) => `  ${describePort(port)}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (problems.length > 0) process.exitCode = 1;
}
