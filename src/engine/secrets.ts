/**
 * Secrets and the variables of a command. A session (a service's run, a task step) resolves the
 * secrets its env items name once, into a `SessionSecrets`, which then masks everything of that
 * session that tend serves or records (failure messages, outputs, log streams).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskSecrets } from '../domain/mask.js';
import { SECRET_ID_PATTERN } from '../domain/patterns.js';
import type { EnvironmentVariableItem } from '../domain/schema.js';

export class EnvError extends Error {}

/**
 * Secrets are files named by their id in `<state-dir>/secrets/`; a trailing newline is dropped.
 * The file is found by listing the directory, so its path never comes from the client's string.
 */
export function readSecret(secretsDir: string, id: string): string {
  if (!SECRET_ID_PATTERN.test(id)) {
    throw new EnvError(`Secret id "${id}" is not a valid secret id`);
  }
  let names: string[] = [];
  try {
    names = readdirSync(secretsDir);
  } catch {
    // no secrets directory: no secret
  }
  const name = names.find((candidate) => candidate === id);
  try {
    if (name === undefined) throw new Error('absent');
    return readFileSync(join(secretsDir, name), 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new EnvError(`Secret "${id}" not found: expected a file at ${join(secretsDir, id)}`);
  }
}

/** The secret values one session resolved; masks them as `***`. */
export class SessionSecrets {
  static readonly NONE = new SessionSecrets([]);

  constructor(readonly values: readonly string[]) {}

  mask(text: string): string {
    return this.values.length === 0 ? text : maskSecrets(text, this.values);
  }

  maskOutput(output: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(Object.entries(output).map(([key, value]) => [key, this.mask(value)]));
  }
}

export interface ResolvedEnv {
  readonly env: Record<string, string>;
  readonly secrets: SessionSecrets;
}

/**
 * A command's own variables: `before` (tend's, such as GITPOD_ENVIRONMENT_ID), the spec's items
 * (literal values and secrets) over them, then `after` (GITPOD_OUTPUT) over everything.
 * Throws EnvError when a secret cannot be read, unless `lenient` (then it is left out).
 */
export function resolveEnv(
  items: readonly EnvironmentVariableItem[] | undefined,
  secretsDir: string,
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  lenient = false,
): ResolvedEnv {
  const env: Record<string, string> = { ...before };
  const secrets: string[] = [];
  for (const item of items ?? []) {
    const name = item.name ?? '';
    const secretId = item.valueFrom?.secretRef.id;
    if (secretId !== undefined) {
      let value: string;
      try {
        value = readSecret(secretsDir, secretId);
      } catch (error) {
        if (lenient) continue;
        throw error;
      }
      secrets.push(value);
      env[name] = value;
    } else {
      env[name] = item.value ?? '';
    }
  }
  return { env: { ...env, ...after }, secrets: new SessionSecrets(secrets) };
}
