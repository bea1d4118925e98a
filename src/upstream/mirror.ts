/**
 * Runner mode: the local copy of a control plane's resources, made through the engines' own
 * operations (`upsert`, `discard`, `run`). The engines never ask whether a control plane exists.
 * Versions are each side's own: the runner's reports carry none, and the control plane gives each
 * report its own statusVersion as it arrives.
 */
import type { Logger } from '../domain/logger.js';
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Store } from '../store/store.js';

export interface MirrorEngines {
  readonly store: Store;
  readonly services: ServiceEngine;
  readonly tasks: TaskEngine;
  readonly executions: ExecutionEngine;
  readonly log: Logger;
}

export class Mirror {
  /** Control plane services waiting for a service of the same reference to go. */
  private readonly waitingForReference = new Map<string, Service>();

  constructor(private readonly engines: MirrorEngines) {
    engines.services.on('change', (kind, service) => {
      if (kind !== 'delete') return;
      const reference = service.metadata.reference ?? '';
      const waiting = this.waitingForReference.get(reference);
      if (waiting === undefined) return;
      this.waitingForReference.delete(reference);
      this.service(waiting);
    });
  }

  /**
   * The service as the control plane has it (same id, metadata and spec, its desired phase and
   * session). One the control plane recreated under the same reference replaces the old one once
   * that one has stopped and is deleted.
   */
  service(remote: Service): void {
    const { services, log } = this.engines;
    const reference = remote.metadata.reference ?? '';
    const clash = services.has(remote.id) ? undefined : services.findByReference(reference);
    if (clash !== undefined) {
      log.info({ service: reference }, 'The control plane recreated a service under a new id: replacing it');
      this.waitingForReference.set(reference, remote);
      services.discard(clash.id);
      return;
    }
    services.upsert(remote.id, remote);
  }

  /** The control plane no longer has this service: it is stopped and deleted here. */
  forgetService(id: string): void {
    this.engines.services.discard(id);
  }

  task(remote: Task): void {
    this.engines.tasks.upsert(remote);
  }

  forgetTask(id: string): void {
    this.engines.tasks.discard(id);
  }

  /** A new PENDING execution runs here under its id with its plan; one wanted STOPPED is stopped. */
  execution(remote: TaskExecution): void {
    const { executions } = this.engines;
    const stopped = remote.spec.desiredPhase === 'TASK_EXECUTION_PHASE_STOPPED';
    if (executions.has(remote.id)) {
      if (stopped) executions.stop(remote.id);
      return;
    }
    if (remote.status.phase !== 'TASK_EXECUTION_PHASE_PENDING' || stopped) return;
    executions.run(remote);
  }
}
