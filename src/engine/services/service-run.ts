/**
 * One run of a service (a session): the id tend made for it, the secrets it resolved, and what
 * the runtime needs to start it. Its log and outputs file are named after the run id only.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseOutput } from '../../domain/output.js';
import type { StateLayout } from '../../domain/state-layout.js';
import type { SessionSpec } from '../../runtime/runtime.js';
import { resolveEnv, type SessionSecrets } from '../secrets.js';
import type { EngineSettings } from '../settings.js';
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
