/**
 * One run of a service (a session): the id tend made for it, the secrets it resolved, and what
 * the runtime needs to start it. Its log and outputs file are named after the run id only.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { parseOutput } from '../../domain/output.js';
import type { StateLayout } from '../../domain/state-layout.js';
import type { SessionSpec } from '../../runtime/runtime.js';
import { resolveEnv, type SessionSecrets } from '../secrets.js';
import type { EngineParts, EngineSettings } from '../settings.js';
import type { ServiceDocument } from './service-keeper.js';

export interface ServiceRun {
  readonly runId: string;
  readonly session: string;
  readonly secrets: SessionSecrets;
  readonly spec: SessionSpec;
}

export function newRunId(): string {
  return randomUUID();
}

/**
 * Resolves the run's variables (its secrets too); throws EnvError when a secret is missing, unless
 * `lenient` (a recovered run: its variable is left out).
 */
export function prepareRun(document: ServiceDocument, session: string, runId: string, settings: EngineSettings, lenient = false): ServiceRun {
  const { layout } = settings;
  const outputPath = layout.runOutput(runId);
  const { env, secrets } = resolveEnv(document.spec.env, layout.secrets, settings.commandEnv, { GITPOD_OUTPUT: outputPath }, lenient);
  return {
    runId,
    session,
    secrets,
    spec: {
      runId,
      resourceId: document.id,
      sessionLabel: session,
      command: document.spec.commands?.start ?? '',
      env,
      workspace: settings.workspace,
      logPath: layout.runLog(runId),
      outputPath,
      runsOn: document.spec.runsOn,
    },
  };
}

/** The run's GITPOD_OUTPUT, masked with its secrets; undefined while it has written none. */
export function readRunOutput(layout: StateLayout, runId: string, secrets: SessionSecrets): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(layout.runOutput(runId), 'utf8');
  } catch {
    return undefined;
  }
  return secrets.maskOutput(parseOutput(text));
}

/** Reads the run's GITPOD_OUTPUT into `run.output`; true when that changed it. */
export function rereadRunOutput(layout: StateLayout, run: { readonly runId: string; readonly secrets: SessionSecrets; output: Record<string, string> }): boolean {
  const output = readRunOutput(layout, run.runId, run.secrets);
  if (output === undefined) return false;
  const keys = Object.keys(output);
  if (keys.length === Object.keys(run.output).length && keys.every((key) => run.output[key] === output[key])) return false;
  run.output = output;
  return true;
}

/** The sessions of a service whose logs are kept; older ones go with their log and outputs. */
export const KEPT_RUNS_PER_SERVICE = 10;

/**
 * Records a new run of a service (with the secrets its log is masked with), makes its outputs
 * file, and removes the logs of its runs older than the newest KEPT_RUNS_PER_SERVICE.
 */
export function recordRun(parts: Pick<EngineParts, 'store' | 'settings'>, serviceId: string, run: ServiceRun): void {
  parts.store.runs.record(run.runId, serviceId, run.secrets.values);
  removeRunFiles(parts.settings.layout, parts.store.runs.prune(serviceId, KEPT_RUNS_PER_SERVICE));
}

/** The log (and its rotated part) and the outputs file of each run. */
export function removeRunFiles(layout: StateLayout, runIds: readonly string[]): void {
  for (const runId of runIds) {
    for (const path of [layout.runLog(runId), `${layout.runLog(runId)}.1`, `${layout.runLog(runId)}.1.json`, layout.runOutput(runId)]) rmSync(path, { force: true });
  }
}
