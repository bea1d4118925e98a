/**
 * Who made a resource (`metadata.creator`): the server sets it, never the client. A call is its
 * token's principal (`PRINCIPAL_USER` with the owner id of the daemon's API token, or
 * `PRINCIPAL_RUNNER` for a serve-only daemon's runner token); what the watched automations file
 * and triggers make is the environment's own (`PRINCIPAL_ENVIRONMENT` with the environment id).
 */
import type { Subject } from './schema.js';

export function userSubject(ownerId: string): Subject {
  return { id: ownerId, principal: 'PRINCIPAL_USER' };
}

export function runnerSubject(runnerId: string): Subject {
  return { id: runnerId, principal: 'PRINCIPAL_RUNNER' };
}

export function environmentSubject(environmentId: string): Subject {
  return { id: environmentId, principal: 'PRINCIPAL_ENVIRONMENT' };
}
