/**
 * Commands in Docker containers (`runsOn.docker`): one container per session, on the host
 * network, labelled with the daemon instance, the state directory, the resource and the run, so
 * that a restarted daemon finds and cleans up its own containers and never touches others.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../../domain/clock.js';
import { imageReferenceProblem } from '../../domain/spec-rules.js';
import { bootId, readProcStat } from '../machine/proc.js';
import { LaunchError, type AdoptResult, type ListeningPort, type PortHolder, type Runtime, type Session, type SessionRecord, type SessionSpec, type SweepResult } from '../runtime.js';
import { listeningSockets, portHolder } from '../machine/listening-sockets.js';
import { ContainerSession } from './container-session.js';
import {
  adoptContainer,
  inspectContainer,
  LABEL_INSTANCE,
  LABEL_RESOURCE,
  LABEL_RUN,
  LABEL_SESSION,
  LABEL_STATE_DIR,
  ownedContainers,
  removeContainer,
  runContainer,
} from './engine-client.js';

export interface DockerRuntimeOptions {
  readonly stateDir: string;
  readonly instanceId: string;
  readonly clock: Clock;
  readonly log: { info(data: object, message: string): void; warn(data: object, message: string): void };
}

export class DockerRuntime implements Runtime {
  /** Containers adopted from a dead daemon: the sweep keeps them. */
  private readonly adopted = new Set<string>();
  /** Whether this daemon has had anything to do with the engine (the sweep asks it only then). */
  private used = false;

  constructor(private readonly options: DockerRuntimeOptions) {}

  /**
   * Written before the first container of a state directory is created: a sweep asks the engine
   * (and loads its client, ~13 MiB) only where a container may have been left.
   */
  private get marker(): string {
    return join(this.options.stateDir, 'containers-used');
  }

  async start(spec: SessionSpec): Promise<Session> {
    if (!this.used) {
      try {
        writeFileSync(this.marker, '', { mode: 0o600 });
      } catch (error) {
        throw new LaunchError(`Cannot write to the state directory: ${(error as Error).message}`, { cause: error });
      }
    }
    this.used = true;
    const docker = spec.runsOn?.docker ?? {};
    // Requests are checked, but a spec stored by an earlier tend may still lack one: no engine call with it.
    const imageProblem = imageReferenceProblem(docker.image ?? '');
    if (imageProblem !== null) throw new LaunchError(`runsOn.docker ${imageProblem}`);
    try {
      mkdirSync(dirname(spec.outputPath), { recursive: true, mode: 0o700 });
      closeSync(openSync(spec.outputPath, 'a', 0o600));
    } catch {
      // The command may still make it; a broken state directory shows at the mount.
    }
    let running;
    try {
      running = await runContainer({
        image: docker.image ?? '',
        environment: docker.environment ?? [],
        command: spec.command,
        workspace: spec.workspace,
        env: spec.env,
        logPath: spec.logPath,
        mounts: [spec.workspace, dirname(spec.outputPath)],
        labels: {
          [LABEL_INSTANCE]: this.options.instanceId,
          [LABEL_STATE_DIR]: this.options.stateDir,
          [LABEL_RESOURCE]: spec.resourceId,
          [LABEL_SESSION]: spec.sessionLabel,
          [LABEL_RUN]: spec.runId,
        },
      });
    } catch (error) {
      throw new LaunchError((error as Error).message, { cause: error });
    }
    const identity = { pid: running.hostPid, pgid: running.hostPid, startTime: readProcStat(running.hostPid)?.startTime ?? '', bootId: bootId() };
    const record = { runId: spec.runId, identity, logPath: spec.logPath, container: running.id };
    return new ContainerSession(record, running.exited, spec.env, this.options.clock);
  }

  /** A container still running as recorded is taken over: its output from the log's last write on. */
  async adopt(record: SessionRecord, spec: SessionSpec): Promise<AdoptResult> {
    this.used = true;
    const id = record.container;
    if (id === undefined) return { lost: 'no record of its container was stored' };
    if (record.identity.bootId !== bootId()) return { lost: 'the machine has restarted since' };
    let found;
    try {
      found = await inspectContainer(id);
    } catch (error) {
      return { lost: `the Docker engine cannot be asked about its container: ${(error as Error).message}` };
    }
    const run = found?.labels[LABEL_RUN] ?? found?.labels[LABEL_SESSION];
    if (found === null || !found.running || run !== record.runId) return { lost: 'its container is no longer running' };
    // The engine kept the output meanwhile: take it from when the log file was last written.
    const since = Math.floor((statSync(record.logPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) / 1000);
    const { exited } = await adoptContainer(id, record.logPath, since);
    this.adopted.add(id);
    return { session: new ContainerSession({ ...record, container: id }, exited, spec.env, this.options.clock) };
  }

  /** Containers run on the host network: its sockets are the machine's. */
  listeningSockets(): ListeningPort[] {
    return listeningSockets();
  }

  async portHolder(port: number): Promise<PortHolder | null> {
    return portHolder(port);
  }

  /** Containers of this state directory that nobody adopted (ended or running) are removed. */
  async sweep(): Promise<SweepResult> {
    if (!this.used && !existsSync(this.marker)) return { instancesInUse: [] };
    try {
      for (const container of await ownedContainers(this.options.stateDir)) {
        if (this.adopted.has(container.id)) continue;
        this.options.log.info({ container: container.id.slice(0, 12) }, 'Removing a container of a previous daemon');
        await removeContainer(container.id);
      }
    } catch (error) {
      this.options.log.warn({ err: error }, 'Cannot list the containers of a previous daemon: is the Docker engine running?');
    }
    return { instancesInUse: [] };
  }
}
