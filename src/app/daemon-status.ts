/**
 * What `tend status` shows (tend.v1.DaemonService/GetStatus): the daemon, its automations file,
 * its role, the triggers it fired, the shell of its commands, the services waiting for their
 * ready command (what they wait for and what the last probe said), the pid and start of each
 * running service's process, and the environment's ports.
 * Daemon-level, beside the API's resources: the public Service shape is left as the reference has it.
 */
import { formatDuration } from '../domain/duration.js';
import type { Automations } from '../engine/automations.js';
import type { PortRegistry } from '../engine/ports.js';
import type { ReadinessWait } from '../engine/services/ready-probing.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { ControlPlane } from '../upstream/control-plane.js';
import type { ProcessIdentity } from '../domain/service-lifecycle.js';
import { processStartedAt } from '../runtime/machine/proc.js';
import type { AutomationsWatcher } from './automations-watcher.js';
import { utcTime } from '../domain/utc-time.js';

export interface StatusParts {
  readonly daemon: () => { url: string; pid: number; environmentId: string; workspace: string; stateDir: string };
  readonly mode: 'runner' | 'serve-only' | 'standalone';
  readonly shell: string | null;
  readonly watcher: AutomationsWatcher | undefined;
  readonly controlPlane: ControlPlane | undefined;
  readonly automations: Automations;
  readonly services: ServiceEngine;
  readonly waiting: () => Array<{ readonly serviceId: string; readonly wait: ReadinessWait }>;
  readonly processes: () => Array<{ readonly serviceId: string; readonly process: ProcessIdentity }>;
  readonly ports: PortRegistry;
}

export async function daemonStatus(parts: StatusParts): Promise<Record<string, unknown>> {
  return {
    daemon: { ...parts.daemon(), shell: parts.shell },
    automationsFile: parts.watcher?.status ?? null,
    mode: parts.mode,
    controlPlane: parts.controlPlane?.health() ?? null,
    firedTriggers: parts.automations.firedTriggers,
    readiness: parts.waiting().map(({ serviceId, wait }) => ({
      serviceId,
      service: parts.services.has(serviceId) ? (parts.services.get(serviceId).metadata.reference ?? serviceId) : serviceId,
      readyCommand: wait.readyCommand,
      waitingSince: utcTime(wait.since),
      probes: wait.probes,
      readinessTimeout: wait.readinessTimeoutMs > 0 ? formatDuration(wait.readinessTimeoutMs) : null,
      lastProbe:
        wait.lastProbe === null
          ? null
          : { exitCode: wait.lastProbe.exitCode, output: wait.lastProbe.output, killedAtBound: wait.lastProbe.killedAtBound, endedAt: utcTime(wait.lastProbe.endedAt) },
    })),
    // The process of each service whose session runs: its pid and since when (for ps and the TUI).
    processes: parts.processes().map(({ serviceId, process }) => {
      const startedAt = processStartedAt(process.startTime);
      return { serviceId, pid: process.pid, startedAt: startedAt === null ? null : utcTime(startedAt) };
    }),
    ports: await parts.ports.list(),
  };
}
