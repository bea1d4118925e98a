/** Checks shared by the request handlers of services and tasks. */
import { invalidArgument, notFound } from '../domain/errors.js';
import { REFERENCE_PATTERN, UUID_PATTERN } from '../domain/patterns.js';

/** An environment id that is not ours: `invalid_argument` when it cannot be an id at all. */
export function checkEnvironment(given: string | undefined, ours: string): void {
  if (given === undefined || given === '' || given === ours) return;
  if (!UUID_PATTERN.test(given)) throw invalidArgument(`Invalid "environmentId" "${given}": ids are UUIDs`);
  throw notFound(`Environment "${given}" not found: this daemon serves environment "${ours}"`);
}

export function checkReference(reference: string | undefined, kind: 'service' | 'task'): string {
  if (reference === undefined || reference === '') {
    throw invalidArgument(`Missing "metadata.reference": every ${kind} needs a reference`);
  }
  if (!REFERENCE_PATTERN.test(reference)) {
    throw invalidArgument(`Invalid "metadata.reference" "${reference}": it must match ^[a-zA-Z0-9_-]{1,128}$`);
  }
  return reference;
}

/** The id of a request: present, and a UUID (an id that cannot exist is a bad argument, not a miss). */
export function requireId(id: string | undefined, kind: string): string {
  if (id === undefined || id === '') throw invalidArgument(`Missing "id": give the id of a ${kind}`);
  if (!UUID_PATTERN.test(id)) throw invalidArgument(`Invalid "id" "${id}": ids are UUIDs, and no ${kind} has this one`);
  return id;
}
