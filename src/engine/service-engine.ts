/**
 * The services of one environment: create, read, update, start, stop, delete. Requests change
 * the spec (what is wanted) and are persisted before they are answered; each service's
 * controller then moves what is toward it. Reads are served from memory.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
} from '../domain/errors.js';
import type {
  CreateServiceRequest,
  ListServicesRequest,
  Service,
  ServiceSpec,
  ServiceStatus,
  UpdateServiceRequest,
} from '../domain/schema.js';
import type { ServiceState } from '../domain/service-lifecycle.js';
import { parseDuration } from '../domain/duration.js';
import { bootId, isAlive } from '../runtime/proc.js';
import { LABEL_SESSION, ownedContainers, removeContainer } from '../runtime/docker-runtime.js';
import type { StoredService, Store } from '../store/store.js';
import type { FileLogSource } from './log-source.js';
import { ServiceController } from './service-controller.js';
import type { EngineSettings } from './settings.js';
import { paginate, type Page } from './pagination.js';
import { validateEnvItems } from './validate-env.js';
import { checkEnvironment, checkReference, requireId } from './requests.js';

export interface ServiceEngineOptions {
  readonly settings: EngineSettings;
  readonly store: Store;
  readonly log: Logger;
  readonly environmentId: string;
  readonly logUrl: (logId: string) => string;
}

export interface ServiceEngineEvents {
  /** A service was created, updated (spec or metadata) or deleted, or its status changed. */
  change: [kind: 'create' | 'update' | 'delete' | 'status', service: Service];
}

export class ServiceEngine extends EventEmitter<ServiceEngineEvents> {
  private readonly controllers = new Map<string, ServiceController>();
  private readonly byReference = new Map<string, ServiceController>();
  private readonly options: ServiceEngineOptions;
  private dependents: (id: string) => string[] = () => [];
  /** Runner mode: control plane services waiting for a service of the same reference to go. */
  private readonly waitingForReference = new Map<string, Service>();

  constructor(options: ServiceEngineOptions) {
    super();
    this.options = options;
  }

  /** Loads the stored services; those the previous daemon left running are recovered first. */
  /** Sessions re-adopted from a dead daemon at load: their processes are not orphans. */
  readonly adoptedSessions = new Set<string>();

  async load(): Promise<void> {
    const { execute } = this.options.settings;
    const runningContainers = execute ? await this.leftoverContainers() : new Map<string, string>();
    for (const stored of this.options.store.loadServices()) {
      // Serve-only: nothing ran here; the stored status is the last one a runner reported.
      const { state, adopt } = execute
        ? await this.recover(stored, runningContainers)
        : { state: { phase: 'stopped', session: null } satisfies ServiceState, adopt: false };
      const service: Service = { ...stored.service, environmentId: this.options.environmentId };
      const controller = new ServiceController(this.controllerContext(), service, state, adopt ? stored.process : null);
      // A recovered service's stored status still says what the dead daemon last wrote.
      controller.writeStatus();
      this.adopt(controller);
      if (adopt && stored.process !== null) {
        this.adoptedSessions.add(stored.process.session);
        await controller.resumeAdopted();
      }
    }
    // Containers of a dead daemon that no service re-adopted are removed.
    for (const [id] of runningContainers) {
      if (![...this.controllers.values()].some((controller) => controller.containerId === id)) await removeContainer(id);
    }
    for (const controller of [...this.controllers.values()]) controller.reconcile();
    this.watchOutputs();
  }

  private outputWatcher: FSWatcher | undefined;

  /** One inotify watch on the outputs directory routes each change to its session's service. */
  private watchOutputs(): void {
    const dir = join(this.options.settings.stateDir, 'outputs');
    mkdirSync(dir, { recursive: true });
    this.outputWatcher = watch(dir, (_event, filename) => {
      const session = filename?.toString().replace(/\.env$/, '');
      if (session !== undefined) this.sessionController(session)?.refreshOutput();
    });
    this.outputWatcher.on('error', (error) => this.options.log.warn({ err: error }, 'Watching service outputs failed'));
  }

  /**
   * A service recorded as STARTING, RUNNING or STOPPING belonged to a daemon that died. Its
   * processes are stopped (only if their identity matches exactly: same boot, same start time,
   * so a reused pid is never signalled) and the service ends FAILED with a message saying so.
   */
  /**
   * A service recorded as STARTING, RUNNING or STOPPING belonged to a daemon that died. If its
   * start command is still alive with exactly the recorded identity (same boot, same pid, same
   * start time), it is re-adopted: same session, same pid, its log keeps growing, its exit is
   * polled. A container session is not re-adopted (its container was removed). Anything else (the
   * process is gone, the pid was reused, the machine rebooted) ends FAILED saying so, and is never
   * signalled.
   */
  private async recover(stored: StoredService, runningContainers: ReadonlyMap<string, string>): Promise<{ state: ServiceState; adopt: boolean }> {
    const { status } = stored.service;
    const session = status.session ?? null;
    switch (status.phase) {
      case 'SERVICE_PHASE_FAILED':
        return { state: { phase: 'failed', session, failureMessage: status.failureMessage ?? '' }, adopt: false };
      case 'SERVICE_PHASE_STARTING':
      case 'SERVICE_PHASE_RUNNING':
      case 'SERVICE_PHASE_STOPPING': {
        const record = stored.process;
        const matches =
          record !== null &&
          record.identity.bootId === bootId() &&
          (record.container === undefined ? isAlive(record.identity) : runningContainers.get(record.container) === record.session);
        if (matches) {
          this.options.log.info({ service: stored.service.metadata.reference, pid: record.identity.pid }, 'Re-adopting a running service');
          const proc = record.identity;
          return {
            state: status.phase === 'SERVICE_PHASE_STARTING' ? { phase: 'starting', session: record.session, proc } : { phase: 'running', session: record.session, proc },
            adopt: true,
          };
        }
        const why =
          record === null
            ? 'no record of its process was stored'
            : record.identity.bootId !== bootId()
              ? 'the machine has restarted since'
              : record.container !== undefined
                ? 'its container is no longer running'
                : 'its process is gone (or its pid now belongs to another process, which was left alone)';
        return {
          state: { phase: 'failed', session, failureMessage: `The tend daemon stopped unexpectedly while the service was ${status.phase}; ${why}` },
          adopt: false,
        };
      }
      default:
        return { state: { phase: 'stopped', session }, adopt: false };
    }
  }

  /**
   * Containers a previous daemon of this state directory started (found by label; containers of
   * anyone else are never touched): the running ones, by id with their session, are candidates for
   * re-adoption; the ended ones are removed now.
   */
  private async leftoverContainers(): Promise<Map<string, string>> {
    const running = new Map<string, string>();
    const hasContainers = this.options.store.loadServices().some((stored) => stored.process?.container !== undefined);
    if (!hasContainers && process.env.DOCKER_HOST === undefined) return running;
    try {
      for (const container of await ownedContainers(this.options.settings.stateDir)) {
        if (container.running) {
          running.set(container.id, container.labels[LABEL_SESSION] ?? '');
          continue;
        }
        this.options.log.info({ container: container.id.slice(0, 12) }, 'Removing an ended container of a previous daemon');
        await removeContainer(container.id);
      }
    } catch (error) {
      this.options.log.warn({ err: error }, 'Cannot list the containers of a previous daemon: is the Docker engine running?');
    }
    return running;
  }

  private controllerContext() {
    return {
      settings: this.options.settings,
      store: this.options.store,
      log: this.options.log,
      logUrl: this.options.logUrl,
      statusChanged: (service: Service) => this.emit('change', 'status', service),
      removed: (controller: ServiceController) => this.remove(controller),
      restart: (controller: ServiceController, spec: Partial<ServiceSpec>) => {
        const current = controller.service.spec;
        this.saveDocument(controller, {
          ...controller.service,
          // A mirrored spec brings its own desired phase and session; a file's patch does not.
          spec: { ...current, desiredPhase: 'SERVICE_PHASE_RUNNING', session: randomUUID(), ...spec, specVersion: this.options.store.nextVersion() },
        });
        this.emit('change', 'update', controller.service);
        controller.reconcile();
      },
    };
  }

  private adopt(controller: ServiceController): void {
    this.controllers.set(controller.service.id, controller);
    this.byReference.set(controller.service.metadata.reference ?? '', controller);
  }

  private remove(controller: ServiceController): void {
    const id = controller.service.id;
    if (!this.controllers.has(id)) return;
    this.options.store.deleteService(id);
    this.controllers.delete(id);
    this.byReference.delete(controller.service.metadata.reference ?? '');
    controller.markDeleted();
    this.emit('change', 'delete', controller.service);
    const reference = controller.service.metadata.reference ?? '';
    const waiting = this.waitingForReference.get(reference);
    if (waiting !== undefined) {
      this.waitingForReference.delete(reference);
      this.mirror(waiting);
    }
  }

  private controller(id: string | undefined): ServiceController {
    const controller = this.controllers.get(requireId(id, 'service'));
    if (controller === undefined) throw notFound(`Service "${id}" not found`);
    return controller;
  }

  /** Whether a service of this id exists (tasks may depend on it). */
  has(id: string): boolean {
    return this.controllers.has(id);
  }

  /** Tells which tasks depend on a service, so that it is not deleted under them. */
  setDependents(dependents: (id: string) => string[]): void {
    this.dependents = dependents;
  }

  create(request: CreateServiceRequest): Service {
    checkEnvironment(request.environmentId, this.options.environmentId);
    const metadata = request.metadata ?? {};
    const spec = request.spec ?? {};
    const reference = checkReference(metadata.reference, 'service');
    if ((spec.commands?.start ?? '').trim() === '') {
      throw invalidArgument(`Missing "spec.commands.start": service "${reference}" needs a start command`);
    }
    validateEnvItems(spec.env, 'spec.env');
    checkReadinessTimeout(spec.readinessTimeout);
    const desired = spec.desiredPhase ?? 'SERVICE_PHASE_STOPPED';
    if (!['SERVICE_PHASE_UNSPECIFIED', 'SERVICE_PHASE_STOPPED', 'SERVICE_PHASE_RUNNING'].includes(desired)) {
      throw invalidArgument(`Invalid "spec.desiredPhase" "${desired}": a new service can only be RUNNING or STOPPED`);
    }
    if (this.byReference.has(reference)) {
      throw alreadyExists(`Service with reference "${reference}" already exists`);
    }
    const running = desired === 'SERVICE_PHASE_RUNNING';
    const store = this.options.store;
    const service: Service = {
      id: randomUUID(),
      environmentId: this.options.environmentId,
      metadata: { ...metadata, createdAt: new Date().toISOString() },
      spec: {
        ...spec,
        desiredPhase: running ? 'SERVICE_PHASE_RUNNING' : 'SERVICE_PHASE_STOPPED',
        ...(running && spec.session === undefined ? { session: randomUUID() } : {}),
        specVersion: store.nextVersion(),
      },
      status: { phase: 'SERVICE_PHASE_STOPPED', statusVersion: store.nextVersion() },
    };
    return this.insert(service);
  }

  private insert(service: Service): Service {
    this.options.store.insertService(service);
    const controller = new ServiceController(this.controllerContext(), service, { phase: 'stopped', session: null }, null);
    this.adopt(controller);
    this.emit('change', 'create', service);
    controller.reconcile();
    return controller.service;
  }

  get(id: string | undefined): Service {
    return this.controller(id).service;
  }

  findByReference(reference: string): Service | undefined {
    return this.byReference.get(reference)?.service;
  }

  /**
   * Replaces spec fields (from the automations file). A stopped service is updated; a running
   * one is stopped, updated and started again; unchanged fields leave it alone. Returns whether
   * anything changed.
   */
  replaceSpec(id: string, patch: Partial<ServiceSpec>): boolean {
    const controller = this.controller(id);
    const current = controller.service.spec;
    const changed = (Object.keys(patch) as (keyof ServiceSpec)[]).some(
      (key) => JSON.stringify(patch[key]) !== JSON.stringify(current[key]),
    );
    if (!changed) return false;
    checkReadinessTimeout(patch.readinessTimeout);
    if (!controller.active) {
      this.saveDocument(controller, { ...controller.service, spec: { ...current, ...patch, specVersion: this.options.store.nextVersion() } });
      this.emit('change', 'update', controller.service);
      return true;
    }
    controller.pendingSpec = patch;
    this.setDesired(controller, { ...current, desiredPhase: 'SERVICE_PHASE_STOPPED' });
    return true;
  }

  list(request: ListServicesRequest): Page<Service> {
    const filter = request.filter ?? {};
    const environmentIds = filter.environmentIds ?? [];
    if (environmentIds.length > 0 && !environmentIds.includes(this.options.environmentId)) {
      return { items: [], nextToken: '' };
    }
    const references = new Set(filter.references ?? []);
    const ids = new Set(filter.serviceIds ?? []);
    const roles = new Set(filter.roles ?? []);
    const matching = [...this.controllers.values()]
      .map((controller) => controller.service)
      .filter(
        (service) =>
          (references.size === 0 || references.has(service.metadata.reference ?? '')) &&
          (ids.size === 0 || ids.has(service.id)) &&
          (roles.size === 0 || roles.has(service.metadata.role ?? 'SERVICE_ROLE_UNSPECIFIED')),
      );
    return paginate(matching, request.pagination);
  }

  /** Metadata and spec; a status report goes through `reportStatus`. */
  update(request: Omit<UpdateServiceRequest, 'status'>): void {
    const controller = this.controller(request.id);
    const current = controller.service;
    let spec: ServiceSpec = current.spec;
    if (request.spec !== undefined) {
      if (controller.active) {
        throw failedPrecondition(
          `Cannot update the spec of service "${current.metadata.reference}" while it is ${current.status.phase}: stop it first`,
        );
      }
      const commands = { ...current.spec.commands, ...request.spec.commands };
      if ((commands.start ?? '').trim() === '') {
        throw invalidArgument(`Invalid "spec.commands.start": service "${current.metadata.reference}" needs a start command`);
      }
      validateEnvItems(request.spec.env, 'spec.env');
      checkReadinessTimeout(request.spec.readinessTimeout);
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
    if (request.spec === undefined && request.metadata === undefined) return;
    if (request.spec !== undefined) spec = { ...spec, specVersion: this.options.store.nextVersion() };
    this.saveDocument(controller, { ...current, metadata, spec });
    this.emit('change', 'update', controller.service);
  }

  private saveDocument(controller: ServiceController, service: Service): void {
    this.options.store.updateServiceDocument(service);
    controller.service = service;
  }

  private setDesired(controller: ServiceController, spec: ServiceSpec): void {
    this.saveDocument(controller, {
      ...controller.service,
      spec: { ...spec, specVersion: this.options.store.nextVersion() },
    });
    this.emit('change', 'update', controller.service);
    controller.reconcile();
  }

  /**
   * A status report of the runner (UpdateService with `status`). Only a serve-only daemon takes
   * them: one that runs its services itself knows their status first-hand.
   */
  reportStatus(id: string | undefined, status: ServiceStatus): void {
    const controller = this.controller(id);
    if (this.options.settings.execute) {
      throw failedPrecondition(
        'This daemon runs its services itself, so it takes no status reports: send them to a daemon started with --serve-only (a control plane)',
      );
    }
    controller.applyReport(status);
  }

  /**
   * Runner mode: makes the local copy of a control plane's service what the control plane says
   * (same id, metadata and spec, its desired phase and session); the controller then acts on it.
   * A spec change of a running service stops it and starts it again with the new spec.
   */
  mirror(remote: Service): void {
    const store = this.options.store;
    store.observeVersion(remote.spec.specVersion);
    store.observeVersion(remote.status.statusVersion);
    const existing = this.controllers.get(remote.id);
    const { specVersion: _ignored, ...remoteSpec } = remote.spec;
    if (existing === undefined) {
      const reference = remote.metadata.reference ?? '';
      const clash = this.byReference.get(reference);
      if (clash !== undefined) {
        // The control plane replaced a service under the same reference: the old one is stopped
        // and deleted first, then this one is created (see remove()).
        this.options.log.info({ service: reference }, 'The control plane recreated a service under a new id: replacing it');
        this.waitingForReference.set(reference, remote);
        this.forget(clash.service.id);
        return;
      }
      this.insert({
        id: remote.id,
        environmentId: this.options.environmentId,
        metadata: remote.metadata,
        spec: { ...remoteSpec, specVersion: store.nextVersion() },
        status: { phase: 'SERVICE_PHASE_STOPPED', statusVersion: store.nextVersion() },
      });
      return;
    }
    const current = existing.service;
    const { specVersion: _currentVersion, ...currentSpec } = current.spec;
    if (JSON.stringify(remote.metadata) === JSON.stringify(current.metadata) && JSON.stringify(remoteSpec) === JSON.stringify(currentSpec)) return;
    const runsDifferently = (['commands', 'env', 'runsOn', 'readinessTimeout'] as const).some(
      (key) => JSON.stringify(remoteSpec[key]) !== JSON.stringify(currentSpec[key]),
    );
    if (runsDifferently && existing.active && remoteSpec.desiredPhase === 'SERVICE_PHASE_RUNNING') {
      // Stopped first; the restart callback then saves the control plane's spec and starts it
      // (in a fresh session if the control plane kept the one that ran).
      const { session, ...rest } = remoteSpec;
      existing.pendingSpec = session !== undefined && session !== current.status.session ? remoteSpec : rest;
      this.saveDocument(existing, { ...current, metadata: remote.metadata });
      this.setDesired(existing, { ...currentSpec, desiredPhase: 'SERVICE_PHASE_STOPPED' });
      return;
    }
    this.saveDocument(existing, { ...current, metadata: remote.metadata, spec: { ...remoteSpec, specVersion: store.nextVersion() } });
    this.emit('change', 'update', existing.service);
    existing.reconcile();
  }

  /** Runner mode: the control plane no longer has this service; it is stopped and deleted here. */
  forget(id: string): void {
    const controller = this.controllers.get(id);
    if (controller === undefined || controller.service.spec.desiredPhase === 'SERVICE_PHASE_DELETED') return;
    this.setDesired(controller, { ...controller.service.spec, desiredPhase: 'SERVICE_PHASE_DELETED' });
  }

  /** Idempotent: a service already starting or running (and wanted so) is left alone. */
  start(id: string | undefined): void {
    const controller = this.controller(id);
    const { spec } = controller.service;
    if (spec.desiredPhase === 'SERVICE_PHASE_DELETED') {
      throw failedPrecondition(`Cannot start service "${controller.service.metadata.reference}": it is being deleted`);
    }
    const starting = controller.phase === 'starting' || controller.phase === 'running';
    if (spec.desiredPhase === 'SERVICE_PHASE_RUNNING' && starting) return;
    this.setDesired(controller, { ...spec, desiredPhase: 'SERVICE_PHASE_RUNNING', session: randomUUID() });
  }

  /** Idempotent: stopping a stopped service does nothing. */
  stop(id: string | undefined): void {
    const controller = this.controller(id);
    const { spec } = controller.service;
    if (spec.desiredPhase === 'SERVICE_PHASE_STOPPED' || spec.desiredPhase === 'SERVICE_PHASE_DELETED') return;
    this.setDesired(controller, { ...spec, desiredPhase: 'SERVICE_PHASE_STOPPED' });
  }

  /** Returns at once; the service is stopped first (at once with force), then it disappears. */
  delete(id: string | undefined, force: boolean): void {
    const controller = this.controller(id);
    const dependents = this.dependents(controller.service.id);
    if (dependents.length > 0) {
      throw failedPrecondition(
        `Cannot delete service "${controller.service.metadata.reference}": ${dependents.map((ref) => `"${ref}"`).join(', ')} ${dependents.length === 1 ? 'depends' : 'depend'} on it`,
      );
    }
    if (force) controller.requestForce();
    const { spec } = controller.service;
    if (spec.desiredPhase === 'SERVICE_PHASE_DELETED') {
      controller.reconcile();
      return;
    }
    this.setDesired(controller, { ...spec, desiredPhase: 'SERVICE_PHASE_DELETED' });
  }

  /** Stops every running service in parallel by the stop rules (daemon shutdown). */
  async shutdown(): Promise<void> {
    this.outputWatcher?.close();
    const stopping = [...this.controllers.values()].filter((controller) => controller.active);
    await Promise.all(stopping.map((controller) => controller.shutdown()));
  }

  /** True while the session that writes this log is still starting, running or stopping. */
  sessionLive(session: string): boolean {
    return this.sessionController(session)?.active === true;
  }

  private sessionController(session: string): ServiceController | undefined {
    return [...this.controllers.values()].find((controller) => controller.service.status.session === session);
  }

  /** The log of a service session (the current one or an earlier one still on disk). */
  logSource(session: string): FileLogSource | undefined {
    const path = join(this.options.settings.stateDir, 'logs', `${session}.log`);
    if (!existsSync(path)) return undefined;
    return {
      kind: 'file',
      path,
      isLive: () => this.sessionLive(session),
      secrets: () => this.sessionController(session)?.secretValues ?? [],
    };
  }

  all(): Service[] {
    return [...this.controllers.values()].map((controller) => controller.service);
  }
}

function checkReadinessTimeout(text: string | undefined): void {
  if (text === undefined || text === '') return;
  const parsed = parseDuration(text);
  if (!parsed.ok) throw invalidArgument(`Invalid "spec.readinessTimeout": ${parsed.message}`);
}
