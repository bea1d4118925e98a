import { resolve } from 'node:path';
import { resolveStateDir } from '../app/state-dir.js';
import { startDaemon } from '../app/daemon.js';
import { DaemonRunningError } from '../app/instance-lock.js';
import { reexecUnderInit } from '../app/pid1.js';
import { createLogger } from '../app/logger.js';
import { parseDuration } from '../domain/duration.js';
import { CliError } from './client.js';
import type { StateDirOptions } from './options.js';
import { findAutomationsFile } from '../config/load-file.js';
import { didYouMean } from '../config/did-you-mean.js';
import { TRIGGER_NAMES, type TriggerName } from '../domain/schema.js';

interface DaemonCommandOptions extends StateDirOptions {
  listen: string;
  stopTimeout: string;
  taskStopTimeout: string;
  readinessTimeout: string;
  probeInterval: string;
  environmentId?: string;
  file?: string;
  trigger?: string[];
  maxLogSize: string;
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
  const workspace = resolve(options.workspace ?? process.cwd());
  const stateDir = resolveStateDir({ ...options, workspace });
  const automationsFile = options.file !== undefined ? resolve(options.file) : findAutomationsFile(workspace);
  const triggers = (options.trigger ?? []).map((name) => {
    if (!(TRIGGER_NAMES as readonly string[]).includes(name)) {
      throw new CliError(`Unknown trigger "${name}"${didYouMean(name, TRIGGER_NAMES)}: use ${TRIGGER_NAMES.join(', ')}`, 2);
    }
    return name as TriggerName;
  });
  const log = createLogger({});
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'Unhandled rejection'));
  process.on('uncaughtException', (error) => log.error({ err: error }, 'Uncaught exception'));
  const daemon = await startDaemon({
    workspace,
    stateDir,
    listen: options.listen,
    stopTimeoutMs: durationOption('--stop-timeout', options.stopTimeout),
    taskStopTimeoutMs: durationOption('--task-stop-timeout', options.taskStopTimeout),
    maxLogBytes: sizeOption(options.maxLogSize),
    readinessTimeoutMs: durationOption('--readiness-timeout', options.readinessTimeout),
    probe: { initialIntervalMs: Math.max(1, durationOption('--probe-interval', options.probeInterval)) },
    ...(options.environmentId !== undefined ? { environmentId: options.environmentId } : {}),
    ...(automationsFile !== undefined ? { automationsFile } : {}),
    startTriggers: triggers,
    log,
  }).catch((error: unknown) => {
    if (error instanceof DaemonRunningError) throw new CliError(error.message);
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
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
