/**
 * What a daemon is given (`DaemonOptions`: what `tend daemon`'s flags and the in-process tests
 * set) and what it gives back (`Daemon`); `app/daemon.ts` wires one from them.
 */
import type { ServerLimits } from '../api/connection-guard.js';
import type { DashboardOptions } from '../dashboard/dashboard.js';
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../domain/logger.js';
import type { TriggerName } from '../domain/schema.js';
import type { Automations } from '../engine/automations.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { PortRegistry } from '../engine/ports.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { ProbeTimings } from '../engine/services/ready-probing.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Store } from '../store/store.js';
import type { ControlPlane, ControlPlaneSettings } from '../upstream/control-plane.js';
import type { AutomationsWatcher } from './automations-watcher.js';
import type { DaemonInfo } from './state-dir.js';

export interface DaemonOptions {
  readonly workspace: string;
  readonly stateDir: string;
  /** `HOST:PORT`; port 0 picks a free port. */
  readonly listen?: string;
  readonly stopTimeoutMs?: number;
  readonly taskStopTimeoutMs?: number;
  readonly maxExecutions?: number;
  /** Size cap of one session's log file before it is rotated. */
  readonly maxLogBytes?: number;
  readonly readinessTimeoutMs?: number;
  readonly probe?: Partial<ProbeTimings>;
  /** Runs start, ready and stop commands on the machine; default bash, else /bin/sh. */
  readonly shell?: string;
  readonly token?: string;
  readonly environmentId?: string;
  /** The automations file to load and watch; none when undefined. */
  readonly automationsFile?: string;
  readonly reloadDebounceMs?: number;
  /** Triggers fired once the automations file is applied (`tend up`: postEnvironmentStart, postDevcontainerStart). */
  readonly startTriggers?: readonly TriggerName[];
  readonly log?: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Serve-only: keep specs and serve the API but run nothing; statuses come from the reports of
   * a runner (a daemon started with `controlPlane` pointing here), authenticated by the runner token.
   */
  readonly serveOnly?: boolean;
  /** The runner token of a serve-only daemon; default TEND_RUNNER_TOKEN, or `<state-dir>/runner-token`. */
  readonly runnerToken?: string;
  /** Runner mode: run what this control plane says and report every status back to it. */
  readonly controlPlane?: ControlPlaneSettings;
  /** Runner mode: how long the final reports may take at shutdown. */
  readonly shutdownFlushMs?: number;
  /** Every timing of the engine runs on this clock (tests of policy drive one by hand). */
  readonly clock?: Clock;
  /** The API server's timeouts and connection cap (README, Security). */
  readonly serverLimits?: Partial<ServerLimits>;
  /** The dashboard's timings and where its built page is (tests). */
  readonly dashboard?: Pick<DashboardOptions, 'loginCodeTtlMs' | 'sessionTtlMs' | 'heartbeatMs' | 'pageDir'>;
}

export interface Daemon {
  readonly info: DaemonInfo;
  /** Every process the daemon starts carries TEND_INSTANCE_ID=<instanceId>. */
  readonly instanceId: string;
  readonly token: string;
  /** Serve-only: the token a runner reports statuses with. */
  readonly runnerToken: string | undefined;
  readonly services: ServiceEngine;
  readonly tasks: TaskEngine;
  readonly executions: ExecutionEngine;
  readonly automations: Automations;
  readonly watcher: AutomationsWatcher | undefined;
  readonly store: Store;
  /** Runner mode's connection to its control plane. */
  readonly controlPlane: ControlPlane | undefined;
  /** The ports recorded by `gitpod environment port open`. */
  readonly ports: PortRegistry;
  /** Stops every service by the stop rules, then closes the server and the store. */
  stop(): Promise<void>;
}

export const DEFAULT_LISTEN = '127.0.0.1:0';
/** Runner mode: how long the reports of the services stopped at shutdown may take to go out. */
export const DEFAULT_SHUTDOWN_FLUSH_MS = 2000;

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (match === null || port > 65_535) {
    throw new Error(`Invalid --listen "${listen}": use HOST:PORT, such as 127.0.0.1:7777 (port 0 picks a free one)`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}
