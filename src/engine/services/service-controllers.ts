/**
 * The keepers of a daemon that runs its services: a `ServiceController` per service, restored
 * through crash recovery after a restart, and the watch that routes each run's GITPOD_OUTPUT
 * changes to its controller.
 */
import { existsSync, mkdirSync, watch, type FSWatcher } from 'node:fs';
import { NEW_SERVICE, type ProcessIdentity } from '../../domain/service-lifecycle.js';
import { serviceStatus } from '../../domain/service-status.js';
import type { ListeningPort } from '../../runtime/runtime.js';
import type { StoredService } from '../../store/store.js';
import type { FileLogSource } from '../log-source.js';
import type { Recovery } from '../recovery.js';
import type { EngineParts } from '../settings.js';
import type { ReadinessWait } from './ready-probing.js';
import { ServiceController } from './service-controller.js';
import type { ServiceKeeper, ServiceKeeperContext, ServiceKeepers } from './service-keeper.js';
import { prepareRun, removeRunFiles } from './service-run.js';

/** How long the ports found for a service are taken as they are. */
export const FOUND_PORTS_TTL_MS = 2000;

/** The ports one service's processes listen on. */
export interface FoundPorts {
  readonly serviceId: string;
  readonly ports: readonly ListeningPort[];
}

export class ServiceControllers implements ServiceKeepers {
  /** Each controller, with the id of its service. */
  private readonly controllers = new Map<ServiceController, string>();
  private readonly portCache = new Map<ServiceController, { key: string; at: number; ports: ListeningPort[] }>();
  private outputWatcher: FSWatcher | undefined;

  constructor(
    private readonly parts: EngineParts,
    private readonly recovery: Recovery,
  ) {}

  create(context: ServiceKeeperContext): ServiceKeeper {
    // The status of a new service: its initial state's projection, with a first version.
    const status = { ...serviceStatus(NEW_SERVICE, { logUrl: this.parts.logUrl, output: {}, mask: (text) => text }), statusVersion: this.parts.store.nextVersion() };
    const controller = new ServiceController(this.parts, context, NEW_SERVICE, status);
    this.controllers.set(controller, context.id);
    return controller;
  }

  async restore(context: ServiceKeeperContext, stored: StoredService): Promise<ServiceKeeper> {
    const controller = new ServiceController(this.parts, context, NEW_SERVICE, stored.service.status);
    this.controllers.set(controller, context.id);
    const document = context.document();
    // A secret that disappeared meanwhile only matters for the next start.
    const recovered = await this.recovery.service(stored, (runId, session) => prepareRun(document, session, runId, this.parts.settings, true).spec);
    controller.recover(recovered.stored, recovered.adopted, recovered.lostBecause);
    return controller;
  }

  /** A deleted service's logs and outputs go with it. */
  forget(keeper: ServiceKeeper): void {
    const controller = keeper as ServiceController;
    this.controllers.delete(controller);
    this.portCache.delete(controller);
    removeRunFiles(this.parts.settings.layout, this.parts.store.runs.forget(controller.id));
  }

  private byRun(runId: string): ServiceController | undefined {
    for (const controller of this.controllers.keys()) if (controller.runId === runId) return controller;
    return undefined;
  }

  /** The service whose run (current or last) this is, if any. */
  serviceOfRun(runId: string): string | undefined {
    const controller = this.byRun(runId);
    return controller === undefined ? undefined : this.controllers.get(controller);
  }

  /**
   * The TCP ports each active service's own processes listen on, found from their sockets. Looked
   * at when asked, and kept for FOUND_PORTS_TTL_MS (or until the service's status changes), so
   * that even a client asking often does not make the daemon scan faster than a person notices.
   */
  async foundPorts(): Promise<FoundPorts[]> {
    const now = this.parts.clock.now();
    const found = await Promise.all(
      [...this.controllers].filter(([controller]) => controller.active).map(async ([controller, serviceId]) => {
        const key = `${controller.runId}/${controller.status.statusVersion}`;
        const cached = this.portCache.get(controller);
        if (cached !== undefined && cached.key === key && now - cached.at < FOUND_PORTS_TTL_MS) return { serviceId, ports: cached.ports };
        const ports = await controller.listeningPorts().catch(() => []);
        this.portCache.set(controller, { key, at: now, ports });
        return { serviceId, ports };
      }),
    );
    return found.filter((entry) => entry.ports.length > 0);
  }

  /** The ports the current run of this run's service listens on; undefined when it is no service's. */
  async portsOfRun(runId: string): Promise<ListeningPort[] | undefined> {
    const controller = this.byRun(runId);
    return controller === undefined ? undefined : controller.listeningPorts().catch(() => []);
  }

  /** The services STARTING with a ready command, and what each waits for. */
  waiting(): Array<{ readonly serviceId: string; readonly wait: ReadinessWait }> {
    const waiting = [];
    for (const [controller, serviceId] of this.controllers) {
      const wait = controller.readiness;
      if (wait !== null) waiting.push({ serviceId, wait });
    }
    return waiting;
  }

  /** The process of each service whose session runs, for its pid and uptime. */
  processes(): Array<{ readonly serviceId: string; readonly process: ProcessIdentity }> {
    const processes = [];
    for (const [controller, serviceId] of this.controllers) {
      const process = controller.process;
      if (process !== null) processes.push({ serviceId, process });
    }
    return processes;
  }

  /** The log of a service's run: the current one or an earlier one still on disk. */
  logSource(logId: string): FileLogSource | undefined {
    const { layout } = this.parts.settings;
    const runId = layout.runOfOutput(`${logId}.env`);
    if (runId === undefined) return undefined;
    const path = layout.runLog(runId);
    if (!existsSync(path)) return undefined;
    return {
      kind: 'file',
      path,
      isLive: () => this.byRun(runId)?.active === true,
      // An earlier session's, or one from before a restart: the secrets it was recorded with.
      secrets: () => this.byRun(runId)?.secrets.values ?? this.parts.store.runs.secrets(runId),
    };
  }

  /** One inotify watch on the outputs directory routes each change to its run's service. */
  watchOutputs(): void {
    const { layout } = this.parts.settings;
    mkdirSync(layout.outputs, { recursive: true, mode: 0o700 });
    this.outputWatcher = watch(layout.outputs, (_event, filename) => {
      const runId = filename === null ? undefined : layout.runOfOutput(filename.toString());
      if (runId !== undefined) this.byRun(runId)?.outputChanged();
    });
    this.outputWatcher.on('error', (error) => this.parts.log.warn({ err: error }, 'Watching service outputs failed'));
  }

  close(): void {
    this.outputWatcher?.close();
  }
}
