/**
 * The environment of a command: the daemon's environment less tend's own secrets, the spec's
 * `env` items (literal values and secrets), and GITPOD_OUTPUT.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentVariableItem } from '../domain/schema.js';

export class EnvError extends Error {}

/** Variables of the daemon that no command should see. */
const PRIVATE_VARS = ['TEND_TOKEN', 'TEND_CONTROL_PLANE_TOKEN', 'TEND_FAULT', 'TEND_SESSION_ID', 'TEND_INSTANCE_ID'];

export function daemonBaseEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && !PRIVATE_VARS.includes(name)) env[name] = value;
  }
  return env;
}

/** Secrets are files named by their id in `<state-dir>/secrets/`; a trailing newline is dropped. */
export function readSecret(secretsDir: string, id: string): string {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id) || id.startsWith('.')) {
    throw new EnvError(`Secret id "${id}" is not a valid secret id`);
  }
  try {
    return readFileSync(join(secretsDir, id), 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new EnvError(`Secret "${id}" not found: expected a file at ${join(secretsDir, id)}`);
  }
}

export interface CommandEnv {
  readonly env: Record<string, string>;
  /** Resolved secret values, for masking. */
  readonly secrets: string[];
}

export function buildCommandEnv(
  base: Readonly<Record<string, string>>,
  items: readonly EnvironmentVariableItem[] | undefined,
  secretsDir: string,
  extra: Readonly<Record<string, string>>,
): CommandEnv {
  const env: Record<string, string> = { ...base };
  const secrets: string[] = [];
  for (const item of items ?? []) {
    const name = item.name ?? '';
    const secretId = item.valueFrom?.secretRef.id;
    if (secretId !== undefined) {
      const value = readSecret(secretsDir, secretId);
      secrets.push(value);
      env[name] = value;
    } else {
      env[name] = item.value ?? '';
    }
  }
  return { env: { ...env, ...extra }, secrets };
}
