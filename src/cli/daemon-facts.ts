/**
 * What the daemon says beyond its resources, as the CLI reads it: tend.v1.DaemonService's
 * `GetStatus` (the automations file, what each STARTING service waits for, the pid and start of
 * each running service's process) and `ListPorts` (recorded ports, and the ports each service is
 * found listening on). Fields a daemon does not send yet are optional: an older daemon, or one
 * whose port finding is not there, still gives the rest. And how those facts read in words.
 */
import type { ApiClient } from '../client/api-client.js';

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

/** A running service's process (GetStatus `processes`). */
export interface ProcessEntry {
  readonly serviceId: string;
  readonly pid: number;
  readonly startedAt: string | null;
}

/** A port (ListPorts): recorded by `gitpod environment port open`, or found listening. */
export interface PortEntry {
  readonly port: number;
  readonly name?: string;
  readonly url?: string;
  readonly listening?: boolean;
  readonly serviceId?: string | null;
  readonly service?: string | null;
  readonly found?: boolean;
  readonly recorded?: boolean;
  readonly openedBy?: { runId: string | null; serviceId: string | null; service: string | null };
}

export interface DaemonStatus {
  automationsFile: { path: string; problems: string[]; warnings?: string[] } | null;
  mode?: string;
  daemon?: { shell?: string | null; workspace?: string };
  controlPlane?: { url: string; connected: boolean; lastReportAt: string | null; outboxDepth: number; lastError: string | null } | null;
  firedTriggers?: string[];
  readiness?: ReadinessEntry[];
  processes?: ProcessEntry[];
  ports?: PortEntry[];
}

export function getStatus(client: ApiClient): Promise<DaemonStatus & Record<string, unknown>> {
  return client.call('GetStatus', {}, 'tend.v1.DaemonService');
}

export async function listPorts(client: ApiClient): Promise<PortEntry[]> {
  return (await client.call<{ ports?: PortEntry[] }>('ListPorts', {}, 'tend.v1.DaemonService')).ports ?? [];
}

/** The service a port belongs to, in either shape of ListPorts. */
export function portServiceId(port: PortEntry): string | null {
  return port.serviceId ?? port.openedBy?.serviceId ?? null;
}

/** The ports of each service, by service id, in port order. */
export function portsByService(ports: readonly PortEntry[]): Map<string, number[]> {
  const byService = new Map<string, number[]>();
  for (const port of [...ports].sort((a, b) => a.port - b.port)) {
    const id = portServiceId(port);
    if (id === null) continue;
    const list = byService.get(id) ?? [];
    if (!list.includes(port.port)) list.push(port.port);
    byService.set(id, list);
  }
  return byService;
}

/** `42s`, `3m05s`, `1h02m`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

/** The last non-empty line of a probe's output, short enough for one line. */
function lastLine(output: string): string {
  const line = output.trimEnd().split('\n').at(-1)?.trim() ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** A command on one line: its lines joined with `; `. */
export function oneLineCommand(command: string): string {
  return command
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('; ');
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
  return `waiting for ready command "${oneLineCommand(entry.readyCommand)}" since ${since} (${timeout}); ${describeLastProbe(entry)}`;
}

/** What a change of the wait is: the last probe's exit and output (not its count, nor the time). */
export function waitKey(entry: ReadinessEntry): string {
  return JSON.stringify([entry.lastProbe?.exitCode, entry.lastProbe?.killedAtBound, entry.lastProbe?.output]);
}

export function describePort(port: PortEntry): string {
  const service = port.service ?? port.openedBy?.service ?? null;
  const by = service !== null ? ` (service ${service})` : '';
  const name = port.name === undefined || port.name === '' ? '-' : port.name;
  const how = port.recorded === false ? ' (found listening)' : port.listening === false ? ' (nothing listens on it now)' : '';
  return `${port.port} ${name} ${port.url ?? ''}${by}${how}`.replace(/ {2,}/g, ' ');
}
