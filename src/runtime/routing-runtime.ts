/**
 * The one place that decides where a command runs: `runsOn.docker` in a container, anything else
 * on this machine. A recorded session goes back to the runtime that started it.
 */
import type { AdoptResult, ListeningPort, PortHolder, Runtime, Session, SessionRecord, SessionSpec, SweepResult } from './runtime.js';

export class RoutingRuntime implements Runtime {
  constructor(
    private readonly machine: Runtime,
    /** Made on first use: a daemon without containers never loads the Docker client. */
    private readonly containers: () => Runtime,
  ) {}

  start(spec: SessionSpec): Promise<Session> {
    return spec.runsOn?.docker !== undefined ? this.containers().start(spec) : this.machine.start(spec);
  }

  settled(): Promise<void> {
    return this.machine.settled?.() ?? Promise.resolve();
  }

  /** Files on this machine, wherever their commands run: the machine's spawner makes them. */
  makeFiles(paths: readonly string[]): void {
    this.machine.makeFiles?.(paths);
  }

  adopt(record: SessionRecord, spec: SessionSpec): Promise<AdoptResult> {
    return record.container !== undefined ? this.containers().adopt(record, spec) : this.machine.adopt(record, spec);
  }

  /** One network (containers run on the host's): the machine answers. */
  listeningSockets(): ListeningPort[] {
    return this.machine.listeningSockets();
  }

  portHolder(port: number): Promise<PortHolder | null> {
    return this.machine.portHolder(port);
  }

  async sweep(previousInstances: readonly string[], adoptedRuns: ReadonlySet<string>): Promise<SweepResult> {
    // No daemon ran anything with this state directory before: nothing can have been left.
    if (previousInstances.length === 0) return { instancesInUse: [] };
    const machine = await this.machine.sweep(previousInstances, adoptedRuns);
    const containers = await this.containers().sweep(previousInstances, adoptedRuns);
    return { instancesInUse: [...new Set([...machine.instancesInUse, ...containers.instancesInUse])] };
  }
}
