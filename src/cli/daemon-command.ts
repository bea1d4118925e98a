import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveStateDir } from '../app/state-dir.js';
import { resolveWorkspace } from '../app/workspace.js';
import { resolveShell, startDaemon } from '../app/daemon.js';
import { DEFAULT_LISTEN } from '../app/daemon-options.js';
import { DaemonRunningError } from '../app/instance-lock.js';
import { startupProblem } from '../app/startup-errors.js';
import { reexecUnderInit } from '../app/pid1.js';
import { createLogger } from '../app/logger.js';
import { parseDuration } from '../domain/duration.js';
import { CliError } from '../client/api-client.js';
import type { StateDirOptions } from './options.js';
import { findAutomationsFile } from '../config/file-location.js';
import { didYouMean } from '../config/did-you-mean.js';
import { TRIGGER_NAMES, type TriggerName } from '../domain/enums.js';

interface DaemonCommandOptions extends StateDirOptions {
  listen: string;
  stopTimeout: string;
  taskStopTimeout: string;
  readinessTimeout: string;
  probeInterval: string;
  probeTimeout: string;
  shell?: string;
  environmentId?: string;
  file?: string;
  trigger?: string[];
  maxLogSize: string;
  controlPlane?: string;
  controlPlaneTokenFile?: string;
  serveOnly?: boolean;
}

/** Runner mode's settings from the options and the environment; every problem is a usage error. */
function controlPlaneOptions(options: DaemonCommandOptions): { url: string; token: string; environmentId: string } | undefined {
  if (options.controlPlane === undefined) {
    if (options.controlPlaneTokenFile !== undefined) throw new CliError('--control-plane-token-file needs --control-plane <url>', 2);
    return undefined;
  }
  if (options.serveOnly === true) throw new CliError('--serve-only and --control-plane exclude each other: a daemon is a control plane or a runner', 2);
  if (options.file !== undefined || (options.trigger ?? []).length > 0) {
    throw new CliError('A runner takes what runs from its control plane: give --file and --trigger to the control plane (tend daemon --serve-only), not to --control-plane', 2);
  }
  let url: URL;
  try {
    url = new URL(options.controlPlane);
  } catch {
    throw new CliError(`Invalid --control-plane "${options.controlPlane}": give the control plane's URL, such as https://cp.example.com/api`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`Invalid --control-plane "${options.controlPlane}": use http:// or https://`, 2);
  let token = process.env.TEND_CONTROL_PLANE_TOKEN ?? '';
  if (options.controlPlaneTokenFile !== undefined) {
    try {
      token = readFileSync(options.controlPlaneTokenFile, 'utf8').trim();
    } catch (error) {
      throw new CliError(`Cannot read --control-plane-token-file ${options.controlPlaneTokenFile}: ${(error as Error).message}`, 2);
    }
  }
  if (token === '') throw new CliError('Runner mode needs the control plane token: give --control-plane-token-file or set TEND_CONTROL_PLANE_TOKEN', 2);
  const environmentId = options.environmentId ?? process.env.GITPOD_ENVIRONMENT_ID ?? '';
  if (environmentId === '') throw new CliError("Runner mode needs the environment's id on the control plane: give --environment-id or set GITPOD_ENVIRONMENT_ID", 2);
  return { url: options.controlPlane, token, environmentId };
}

const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

function sizeOption(text: string): number {
  const match = /^(\d+)\s*(B|KiB|MiB|GiB)?$/.exec(text.trim());
  if (match === null) throw new CliError(`Invalid --max-log-size "${text}": use a size such as 64MiB or 512KiB`, 2);
  return Number(match[1]) * SIZE_UNITS[match[2] ?? 'B']!;
}

function durationOption(name: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new CliError(`Invalid ${name}: ${parsed.message}`, 2);
  return parsed.ms;
}

export async function runDaemonCommand(options: DaemonCommandOptions): Promise<void> {
  if (reexecUnderInit((message) => process.stderr.write(`tend: ${message}\n`))) return;
  const workspace = resolveWorkspace(options);
  const stateDir = resolveStateDir({ ...options, workspace });
  const automationsFile = options.file !== undefined ? resolve(options.file) : findAutomationsFile(workspace);
  const triggers = (options.trigger ?? []).map((name) => {
    if (!(TRIGGER_NAMES as readonly string[]).includes(name)) {
      throw new CliError(`Unknown trigger "${name}"${didYouMean(name, TRIGGER_NAMES)}: use ${TRIGGER_NAMES.join(', ')}`, 2);
    }
    return name as TriggerName;
  });
  const upstream = controlPlaneOptions(options);
  let shell: string | undefined;
  try {
    shell = options.shell === undefined ? undefined : resolveShell(options.shell);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const log = createLogger({});
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'Unhandled rejection'));
  process.on('uncaughtException', (error) => log.error({ err: error }, 'Uncaught exception'));
  // Listened for before the daemon starts, by one listener that is never removed: daemon.json
  // (what a client waits for) is written during the start, and a SIGTERM right after it must stop
  // the daemon. Removing a signal's last listener closes Node's handle for it: a signal caught but
  // not yet dispatched is then dropped (the daemon ignored it and ran on), or one that comes before
  // the next listener kills the process.
  let received: NodeJS.Signals | undefined;
  let onSignal = (signal: NodeJS.Signals): void => {
    received ??= signal;
  };
  process.on('SIGTERM', (signal) => onSignal(signal));
  process.on('SIGINT', (signal) => onSignal(signal));
  const daemon = await startDaemon({
    workspace,
    stateDir,
    listen: options.listen,
    stopTimeoutMs: durationOption('--stop-timeout', options.stopTimeout),
    taskStopTimeoutMs: durationOption('--task-stop-timeout', options.taskStopTimeout),
    maxLogBytes: sizeOption(options.maxLogSize),
    readinessTimeoutMs: durationOption('--readiness-timeout', options.readinessTimeout),
    probe: {
      initialIntervalMs: Math.max(1, durationOption('--probe-interval', options.probeInterval)),
      probeTimeoutMs: Math.max(1, durationOption('--probe-timeout', options.probeTimeout)),
    },
    ...(shell !== undefined ? { shell } : {}),
    ...(options.environmentId !== undefined ? { environmentId: options.environmentId } : {}),
    ...(upstream !== undefined
      ? { controlPlane: { url: upstream.url, token: upstream.token }, environmentId: upstream.environmentId }
      : automationsFile !== undefined
        ? { automationsFile }
        : {}),
    ...(options.serveOnly === true ? { serveOnly: true } : {}),
    startTriggers: triggers,
    log,
  }).catch((error: unknown) => {
    if (error instanceof DaemonRunningError) throw new CliError(error.message);
    const problem = startupProblem(error, { stateDir, listen: options.listen ?? DEFAULT_LISTEN });
    if (problem !== undefined) throw new CliError(problem);
    throw error;
  });
  const shutdown = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'Signal received');
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  onSignal = shutdown;
  if (received !== undefined) shutdown(received);
}
