/**
 * The rules a service's or task's spec must follow, shared by the automations file's checks
 * (`config/check-file.ts`, with positions) and the API's requests (`engine/services/service-requests.ts`,
 * `engine/tasks/task-engine.ts`, with the request's field paths). One rule, one function; each
 * surface words the problem for its own fields.
 */
import { parseDuration } from './duration.js';
import { REFERENCE_PATTERN, SECRET_ID_PATTERN } from './patterns.js';
import type { EnvironmentVariableItem, RunsOn } from './schema.js';

/** A command that is missing, not text, or only whitespace. */
export function isBlankCommand(command: unknown): boolean {
  return typeof command !== 'string' || command.trim() === '';
}

export function isValidReference(reference: unknown): reference is string {
  return typeof reference === 'string' && REFERENCE_PATTERN.test(reference);
}

/** Why a readinessTimeout cannot be read, or null when it can (absent and "" mean: the default). */
export function readinessTimeoutProblem(text: unknown): string | null {
  if (text === undefined || text === '' || typeof text !== 'string') return null;
  const parsed = parseDuration(text);
  return parsed.ok ? null : parsed.message;
}

/** A readinessTimeout in milliseconds, or `fallback` when absent (checked by readinessTimeoutProblem). */
export function readinessTimeoutMs(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.ms : fallback;
}

/** `runsOn.docker` given without an image to run. */
export function lacksDockerImage(runsOn: { docker?: { image?: unknown } | null } | RunsOn | undefined | null): boolean {
  const docker = runsOn?.docker;
  return docker !== undefined && docker !== null && isBlankCommand(docker.image);
}

/**
 * Why a Docker image reference cannot be pulled as written (spaces, a leading or doubled "/", an
 * empty tag), or null. The engine has the last word on the rest.
 */
export function imageReferenceProblem(image: string): string | null {
  if (image.trim() === '') return 'needs an image';
  if (/\s/.test(image) || image.startsWith('/') || image.includes('//') || /[:/@]$/.test(image)) {
    return `cannot run image "${image}": it is not an image reference (such as "alpine:3.20" or "ghcr.io/org/app@sha256:...")`;
  }
  return null;
}

export interface RunsOnProblem {
  /** The field below the spec: `runsOn` or `runsOn.docker.image`. */
  readonly field: 'runsOn' | 'runsOn.docker.image';
  /** The field is absent (rather than wrong). */
  readonly missing: boolean;
  readonly message: string;
}

/** What is wrong with a `runsOn` (both places at once, no image, an image that cannot be one), or null. */
export function runsOnProblem(runsOn: { docker?: { image?: unknown } | null; machine?: unknown } | undefined | null): RunsOnProblem | null {
  if (runsOn?.docker !== undefined && runsOn.docker !== null && runsOn.machine !== undefined && runsOn.machine !== null) {
    return { field: 'runsOn', missing: false, message: 'gives both "docker" and "machine": a command runs in one place, give one of them' };
  }
  if (lacksDockerImage(runsOn)) return { field: 'runsOn.docker.image', missing: true, message: 'runs in Docker and needs an image' };
  const image = runsOn?.docker?.image;
  const problem = typeof image === 'string' ? imageReferenceProblem(image) : null;
  return problem === null ? null : { field: 'runsOn.docker.image', missing: false, message: problem };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface EnvProblem {
  /** The field is there but wrong (rather than missing). */
  readonly invalid?: true;
  /** The field below the item, or null for the item itself. */
  readonly field: 'name' | 'valueFrom.secretRef.id' | null;
  readonly message: string;
}

/** What is wrong with one env item: a bad name, both value and valueFrom, a secretRef without id. */
export function envItemProblem(item: EnvironmentVariableItem): EnvProblem | null {
  const name = item.name ?? '';
  if (!ENV_NAME.test(name)) return { field: 'name', message: `"${name}": use letters, digits and underscores, not starting with a digit` };
  if (item.valueFrom !== undefined) {
    if (item.value !== undefined && item.value !== '') return { field: null, message: 'give either "value" or "valueFrom", not both' };
    const id = item.valueFrom.secretRef.id ?? '';
    if (id === '') return { field: 'valueFrom.secretRef.id', message: 'name the secret to read' };
    if (!SECRET_ID_PATTERN.test(id)) {
      return { field: 'valueFrom.secretRef.id', invalid: true, message: `"${id}" cannot be a secret id: use up to 128 letters, digits, "_", "-" or "." (not first), such as a UUID` };
    }
  }
  return null;
}
