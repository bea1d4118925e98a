/** The service engine's request handling that needs no state: checks, merges and filters. */
import { randomUUID } from 'node:crypto';
import { alreadyExists, invalidArgument } from '../../domain/errors.js';
import type { CreateServiceRequest, ListServicesRequest, Service, ServiceSpec, Subject, UpdateServiceRequest } from '../../domain/schema.js';
import { isBlankCommand } from '../../domain/spec-rules.js';
import { checkEnvironment, checkReference } from '../requests.js';
import { checkReadinessTimeout, checkRunsOn, validateEnvItems } from '../spec-checks.js';
import type { ServiceDocument } from './service-keeper.js';
import { utcNow } from '../../domain/utc-time.js';

/**
 * A new service's document, from a CreateService request that passed every check. Its creator
 * and creation time are the server's (a client's are ignored).
 */
export function newServiceDocument(
  request: CreateServiceRequest,
  environmentId: string,
  referenceTaken: (reference: string) => boolean,
  nextVersion: () => string,
  creator: Subject,
): ServiceDocument {
  checkEnvironment(request.environmentId, environmentId);
  const { createdAt: _createdAt, creator: _creator, ...metadata } = request.metadata ?? {};
  const spec = request.spec ?? {};
  const reference = checkReference(metadata.reference, 'service');
  if (isBlankCommand(spec.commands?.start)) throw invalidArgument(`Missing "spec.commands.start": service "${reference}" needs a start command`);
  validateEnvItems(spec.env, 'spec.env');
  checkReadinessTimeout(spec.readinessTimeout);
  checkRunsOn(spec.runsOn, `service "${reference}"`);
  const desired = spec.desiredPhase ?? 'SERVICE_PHASE_STOPPED';
  if (!['SERVICE_PHASE_UNSPECIFIED', 'SERVICE_PHASE_STOPPED', 'SERVICE_PHASE_RUNNING'].includes(desired)) {
    throw invalidArgument(`Invalid "spec.desiredPhase" "${desired}": a new service can only be RUNNING or STOPPED`);
  }
  if (referenceTaken(reference)) throw alreadyExists(`Service with reference "${reference}" already exists`);
  const running = desired === 'SERVICE_PHASE_RUNNING';
  return {
    id: randomUUID(),
    environmentId,
    metadata: { ...metadata, createdAt: utcNow(), creator },
    spec: {
      ...spec,
      desiredPhase: running ? 'SERVICE_PHASE_RUNNING' : 'SERVICE_PHASE_STOPPED',
      ...(running && spec.session === undefined ? { session: randomUUID() } : {}),
      specVersion: nextVersion(),
    },
  };
}

/**
 * What an UpdateService request makes of a document (metadata at any time; the spec only while
 * the service is inactive, checked by the caller), or null when it asks for nothing.
 */
export function mergeUpdate(current: ServiceDocument, request: Omit<UpdateServiceRequest, 'status'>): { metadata: Service['metadata']; spec?: ServiceSpec } | null {
  if (request.spec === undefined && request.metadata === undefined) return null;
  let spec: ServiceSpec | undefined;
  if (request.spec !== undefined) {
    const reference = current.metadata.reference;
    const commands = { ...current.spec.commands, ...request.spec.commands };
    if (isBlankCommand(commands.start)) throw invalidArgument(`Invalid "spec.commands.start": service "${reference}" needs a start command`);
    validateEnvItems(request.spec.env, 'spec.env');
    checkReadinessTimeout(request.spec.readinessTimeout);
    const runsOn = request.spec.runsOn ?? current.spec.runsOn;
    checkRunsOn(runsOn, `service "${reference}"`);
    spec = {
      ...current.spec,
      commands,
      ...(request.spec.env !== undefined ? { env: request.spec.env } : {}),
      ...(request.spec.runsOn !== undefined ? { runsOn: request.spec.runsOn } : {}),
      ...(request.spec.readinessTimeout !== undefined ? { readinessTimeout: request.spec.readinessTimeout } : {}),
    };
  }
  const patch = request.metadata ?? {};
  const metadata = {
    ...current.metadata,
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.role !== undefined ? { role: patch.role } : {}),
    ...(patch.triggeredBy !== undefined ? { triggeredBy: patch.triggeredBy.trigger ?? [] } : {}),
  };
  return spec === undefined ? { metadata } : { metadata, spec };
}

/** Whether any field of `patch` differs from the spec. */
export function specChanged(current: ServiceSpec, patch: Partial<ServiceSpec>): boolean {
  return (Object.keys(patch) as (keyof ServiceSpec)[]).some((key) => JSON.stringify(patch[key]) !== JSON.stringify(current[key]));
}

export function matchesFilter(service: Service, filter: NonNullable<ListServicesRequest['filter']>, environmentId: string): boolean {
  const environmentIds = filter.environmentIds ?? [];
  if (environmentIds.length > 0 && !environmentIds.includes(environmentId)) return false;
  const { references = [], serviceIds = [], roles = [] } = filter;
  return (
    (references.length === 0 || references.includes(service.metadata.reference ?? '')) &&
    (serviceIds.length === 0 || serviceIds.includes(service.id)) &&
    (roles.length === 0 || roles.includes(service.metadata.role ?? 'SERVICE_ROLE_UNSPECIFIED'))
  );
}

/** `Cannot delete service "db": "migrate" depends on it`. */
export function dependentsMessage(kind: 'service' | 'task', reference: string | undefined, dependents: readonly string[]): string {
  return `Cannot delete ${kind} "${reference}": ${dependents.map((ref) => `"${ref}"`).join(', ')} ${dependents.length === 1 ? 'depends' : 'depend'} on it`;
}
