/** Checks shared by the request handlers of services and tasks. */
import { invalidArgument, notFound } from '../domain/errors.js';
import { REFERENCE_PATTERN } from '../domain/schema.js';

export function checkEnvironment(given: string | undefined, ours: string): void {
  if (given !== undefined && given !== '' && given !== ours) {
    throw notFound(`Environment "${given}" not found: this daemon serves environment "${ours}"`);
  }
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

export function requireId(id: string | undefined, kind: string): string {
  if (id === undefined || id === '') throw invalidArgument(`Missing "id": give the id of a ${kind}`);
  return id;
}
