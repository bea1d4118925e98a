/**
 * Drives one service toward `spec.desiredPhase`. Every observed fact becomes an event for the
 * pure `transitionService`; this class only carries out the effects it returns, and writes the
 * status (with a fresh statusVersion) whenever what the API shows changes.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { maskSecrets } from '../domain/mask.js';
import { parseOutput } from '../domain/output.js';
import { isNewerReport } from '../domain/report-order.js';
import type { Service, ServicePhase, ServiceSpec, ServiceStatus } from '../domain/schema.js';
import { parseDuration } from '../domain/duration.js';
import {
  describeExit,
  isActive,
  transitionService,
  wirePhase,
  type ExitInfo,
  type ServiceEffect,
  type ServiceEvent,
  type ServiceState,
} from '../domain/service-lifecycle.js';
import { readLogTail } from '../runtime/log-tail.js';
import { startReadyProbe, type ReadyProbe } from '../runtime/ready-probe.js';
import { SpawnError, spawnCommand, type CommandSpec } from '../runtime/spawn-command.js';
import { stopService } from '../runtime/stop-service.js';
import { killSession, waitExit } from '../runtime/terminate.js';
import { faultPoint } from '../runtime/fault.js';

/** The lifecycle phase a reported wire phase stands for (serve-only). */
const REPORTED_PHASE: Record<ServicePhase, ServiceState['phase']> = {
  SERVICE_PHASE_UNSPECIFIED: 'stopped',
  SERVICE_PHASE_STARTING: 'starting',
  SERVICE_PHASE_RUNNING: 'running',
  SERVICE_PHASE_STOPPING: 'stopping',
  SERVICE_PHASE_STOPPED: 'stopped',
  SERVICE_PHASE_FAILED: 'failed',
  SERVICE_PHASE_DELETED: 'stopped',
};

/** How often the exit of a re-adopted process (not our child) is checked. */
const ADOPTED_EXIT_POLL_MS = 100;
import { bootId, readProcStat, sendSignal } from '../runtime/proc.js';
import {
  adoptContainer,
  DockerError,
  execInContainer,
  LABEL_INSTANCE,
  LABEL_RESOURCE,
  LABEL_SESSION,
  LABEL_STATE_DIR,
  runContainer,
  signalContainer,
  type RunningContainer,
} from '../runtime/docker-runtime.js';
import { stopContainer } from '../runtime/stop-container.js';
import type { ServiceProcessRecord, Store } from '../store/store.js';
import { buildCommandEnv, EnvError } from './command-env.js';
import type { EngineSettings } from './settings.js';

export interface ControllerContext {
  readonly settings: EngineSettings;
  readonly store: Store;
  readonly log: Logger;
  readonly logUrl: (logId: string) => string;
  readonly statusChanged: (service: Service) => void;
  /** Called once the service was stopped for deletion; the engine forgets it. */
  readonly removed: (controller: ServiceController) => void;
  /** Called once a service stopped for a spec change: the engine saves the spec and starts it again. */
  readonly restart: (controller: ServiceController, spec: Partial<ServiceSpec>) => void;
}

export class ServiceController {
  service: Service;
  private state: ServiceState;
  private record: ServiceProcessRecord | null;
  private probe: ReadyProbe | null = null;
  private forceStop = false;
  private shuttingDown = false;
  private readonly idleWaiters: Array<() => void> = [];
  /** A spec change waiting for the service to stop (a running service's spec changed). */
  pendingSpec: Partial<ServiceSpec> | null = null;
  /** Secret values the current session resolved, for masking its output. */
  secretValues: readonly string[] = [];
  private readonly log: Logger;

  constructor(
    private readonly context: ControllerContext,
    service: Service,
    state: ServiceState,
    record: ServiceProcessRecord | null,
  ) {
    this.service = service;
    this.state = state;
    this.record = record;
    this.log = context.log.child({ service: service.metadata.reference, serviceId: service.id });
  }

  get phase(): ServiceState['phase'] {
    return this.context.settings.execute ? this.state.phase : REPORTED_PHASE[this.service.status.phase ?? 'SERVICE_PHASE_STOPPED'];
  }

  get active(): boolean {
    const phase = this.phase;
    return phase === 'starting' || phase === 'running' || phase === 'stopping';
  }

  /**
   * Serve-only: the status a runner reported becomes the service's status as it is (its
   * statusVersion too). A repeat of the current version is ignored; an older one is refused.
   */
  applyReport(report: ServiceStatus): void {
    const current = this.service.status;
    if (!isNewerReport(`service "${this.service.metadata.reference}"`, report.statusVersion, current.statusVersion)) return;
    const session = report.session ?? current.session;
    // A new session starts with no output; "" unsets a key.
    const output: Record<string, string> = { ...(session === current.session ? current.output : {}) };
    for (const [key, value] of Object.entries(report.output ?? {})) {
      if (value === '') delete output[key];
      else output[key] = value;
    }
    const failureMessage = report.failureMessage ?? current.failureMessage;
    const logUrl = report.logUrl ?? current.logUrl;
    const next: ServiceStatus = {
      phase: report.phase ?? current.phase ?? 'SERVICE_PHASE_STOPPED',
      ...(session !== undefined && session !== '' ? { session } : {}),
      ...(logUrl !== undefined && logUrl !== '' ? { logUrl } : {}),
      ...(failureMessage !== undefined && failureMessage !== '' ? { failureMessage } : {}),
      ...(Object.keys(output).length > 0 ? { output } : {}),
      statusVersion: report.statusVersion!,
    };
    this.context.store.observeVersion(report.statusVersion);
    this.service = { ...this.service, status: next };
    this.context.store.updateServiceStatus(this.service.id, next, null);
    this.context.statusChanged(this.service);
    this.reconcile();
  }

  /**
   * A service re-adopted from a dead daemon: its start command is not our child, so its exit is
   * observed by polling (and its exit code is unknown); its log keeps growing under rotation; a
   * service that was STARTING is probed again.
   */
  async resumeAdopted(): Promise<void> {
    const state = this.state;
    const record = this.record;
    if (!isActive(state) || record === null) return;
    const session = state.session;
    const start = this.service.spec.commands?.start ?? '';
    try {
      this.commandSpec(start, session); // resolves the secrets again, for masking
    } catch {
      // a secret that disappeared only matters for the next start
    }
    if (record.container !== undefined) {
      // The engine kept the output meanwhile: take it from when the log file was last written.
      const since = Math.floor(statSync(record.logPath, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) / 1000;
      const { exited } = await adoptContainer(record.container, record.logPath, Math.floor(since));
      const id = record.container;
      this.container = { id, exited };
      void exited.then((exit) => {
        if (this.container?.id === id) this.container = null;
        this.exited(session, record.identity.pid, exit, start);
      });
      if (state.phase === 'starting') this.run({ type: 'startProbing' });
      return;
    }
    this.context.settings.logs.track(record.logPath);
    void waitExit(record.identity, Number.MAX_SAFE_INTEGER, ADOPTED_EXIT_POLL_MS).then(() =>
      this.exited(session, record.identity.pid, { code: null, signal: null }, start, ' (it was re-adopted after a daemon restart, so its exit code is unknown)'),
    );
    if (state.phase === 'starting') this.run({ type: 'startProbing' });
  }

  /** The container of the current session, if it runs in Docker. */
  get containerId(): string | null {
    return this.container?.id ?? null;
  }

  /** Deletion with force kills at once, also when a graceful stop is already under way. */
  requestForce(): void {
    this.forceStop = true;
  }

  /**
   * Daemon shutdown: stop by the stop rules without changing what is wanted, so that the
   * service's session is over and it is not started again by itself on the next start.
   */
  shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (!isActive(this.state)) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.state.phase !== 'stopping') this.dispatch({ type: 'StopRequested', force: false });
    return idle;
  }

  /** Compares what is wanted with what is, and acts on the difference. */
  reconcile(): void {
    const { desiredPhase, session } = this.service.spec;
    if (!this.context.settings.execute) {
      // Serve-only: the runner acts; a deleted service goes once the runner reports it stopped.
      if (!this.active && this.pendingSpec !== null) {
        const spec = this.pendingSpec;
        this.pendingSpec = null;
        this.context.restart(this, spec);
        return;
      }
      if (desiredPhase === 'SERVICE_PHASE_DELETED' && !this.active) this.context.removed(this);
      return;
    }
    const state = this.state;
    if (!isActive(state)) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (this.shuttingDown) return;
    if (!isActive(state) && this.pendingSpec !== null) {
      const spec = this.pendingSpec;
      this.pendingSpec = null;
      this.context.restart(this, spec);
      return;
    }
    if (this.launching !== null) return;
    if (desiredPhase === 'SERVICE_PHASE_RUNNING') {
      if ((state.phase === 'stopped' || state.phase === 'failed') && session !== undefined && session !== state.session) {
        this.launch(session);
      }
      return;
    }
    if (desiredPhase === 'SERVICE_PHASE_STOPPED' || desiredPhase === 'SERVICE_PHASE_DELETED') {
      if (isActive(state)) {
        if (state.phase !== 'stopping' || this.forceStop) {
          this.dispatch({ type: 'StopRequested', force: this.forceStop });
        }
        return;
      }
      if (desiredPhase === 'SERVICE_PHASE_DELETED') this.context.removed(this);
    }
  }

  private dispatch(event: ServiceEvent): void {
    const before = this.state;
    const { state, effects } = transitionService(before, event);
    this.state = state;
    if (state.phase !== before.phase) {
      this.log.info({ from: before.phase, to: state.phase, event: event.type }, 'Service phase changed');
    }
    this.writeStatus();
    this.refreshOutput();
    for (const effect of effects) this.run(effect);
    if (state !== before) this.reconcile();
  }

  /** Builds the status the API shows; writes it with a new version only when it changed. */
  writeStatus(): void {
    if (!this.context.settings.execute) return;
    const state = this.state;
    const previous = this.service.status;
    const failure =
      state.phase === 'failed' ? state.failureMessage : state.phase === 'stopping' ? (state.failWith ?? undefined) : undefined;
    // The last output lines may echo a secret: it never leaves in a status.
    const failureMessage = failure === undefined ? undefined : maskSecrets(failure, this.secretValues);
    const next: ServiceStatus = {
      phase: wirePhase(state),
      ...(state.session !== null ? { session: state.session, logUrl: this.context.logUrl(state.session) } : {}),
      ...(failureMessage !== undefined ? { failureMessage } : {}),
      // A new session starts with no output; the previous one's is kept until then.
      ...(previous.output !== undefined && previous.session === state.session ? { output: previous.output } : {}),
    };
    if (
      next.phase === previous.phase &&
      next.session === previous.session &&
      next.failureMessage === previous.failureMessage &&
      next.logUrl === previous.logUrl
    ) {
      return;
    }
    next.statusVersion = this.context.store.nextVersion();
    this.service = { ...this.service, status: next };
    this.context.store.updateServiceStatus(this.service.id, next, isActive(state) ? this.record : null);
    this.context.statusChanged(this.service);
  }

  /**
   * Re-reads the session's GITPOD_OUTPUT file; a change of output is a status change. Called
   * when the file changes and on every phase change.
   */
  refreshOutput(): void {
    if (!this.context.settings.execute) return;
    const session = this.state.session;
    if (session === null) return;
    let text: string;
    try {
      text = readFileSync(join(this.context.settings.stateDir, 'outputs', `${session}.env`), 'utf8');
    } catch {
      return;
    }
    const output = Object.fromEntries(
      Object.entries(parseOutput(text)).map(([key, value]) => [key, maskSecrets(value, this.secretValues)]),
    );
    const previous = this.service.status.output ?? {};
    if (JSON.stringify(output) === JSON.stringify(previous)) return;
    const status: ServiceStatus = { ...this.service.status, output, statusVersion: this.context.store.nextVersion() };
    this.service = { ...this.service, status };
    this.context.store.updateServiceStatus(this.service.id, status, isActive(this.state) ? this.record : null);
    this.context.statusChanged(this.service);
  }

  /** Marks the service DELETED (the last status anyone sees) once it is gone from the store. */
  markDeleted(): void {
    const status: ServiceStatus = {
      ...this.service.status,
      phase: 'SERVICE_PHASE_DELETED',
      statusVersion: this.context.store.nextVersion(),
    };
    this.service = { ...this.service, status };
    this.context.statusChanged(this.service);
  }

  /**
   * What a container's commands get: the spec's variables (secrets resolved) and GITPOD_OUTPUT,
   * not the daemon's own environment (the image has its own PATH, HOME, ...).
   */
  private containerEnv(session: string): Record<string, string> {
    const { settings } = this.context;
    const { env, secrets } = buildCommandEnv({}, this.service.spec.env, join(settings.stateDir, 'secrets'), {
      GITPOD_OUTPUT: join(settings.stateDir, 'outputs', `${session}.env`),
      GITPOD_ENVIRONMENT_ID: settings.baseEnv.GITPOD_ENVIRONMENT_ID ?? '',
    });
    this.secretValues = secrets;
    return env;
  }

  private commandSpec(command: string, session: string): CommandSpec {
    const { settings } = this.context;
    const { env, secrets } = buildCommandEnv(settings.baseEnv, this.service.spec.env, join(settings.stateDir, 'secrets'), {
      GITPOD_OUTPUT: join(settings.stateDir, 'outputs', `${session}.env`),
    });
    this.secretValues = secrets;
    return {
      command,
      cwd: settings.workspace,
      env,
      logPath: join(settings.stateDir, 'logs', `${session}.log`),
      marker: session,
    };
  }

  /** The spec's readinessTimeout (validated when it was set), else the daemon's default. */
  private readinessTimeoutMs(): number {
    const text = this.service.spec.readinessTimeout;
    if (text === undefined || text === '') return this.context.settings.readinessTimeoutMs;
    const parsed = parseDuration(text);
    return parsed.ok ? parsed.ms : this.context.settings.readinessTimeoutMs;
  }

  private launch(session: string): void {
    if (this.service.spec.runsOn?.docker !== undefined) {
      void this.launchContainer(session);
      return;
    }
    const reference = this.service.metadata.reference ?? this.service.id;
    const start = this.service.spec.commands?.start ?? '';
    let spawned;
    try {
      spawned = spawnCommand(this.commandSpec(start, session));
    } catch (error) {
      if (!(error instanceof SpawnError || error instanceof EnvError)) throw error;
      this.dispatch({ type: 'SpawnFailed', session, message: `Cannot start service "${reference}": ${error.message}` });
      return;
    }
    const identity = spawned.identity;
    faultPoint('after-spawn');
    this.record = { session, identity, logPath: join(this.context.settings.stateDir, 'logs', `${session}.log`) };
    this.context.settings.logs.track(this.record.logPath);
    this.log.info({ pid: identity.pid, session }, 'Service spawned');
    void spawned.exited.then((exit) => this.exited(session, identity.pid, exit, start));
    const ready = this.service.spec.commands?.ready ?? '';
    this.dispatch({ type: 'Spawned', session, proc: identity, awaitsReady: ready.trim() !== '' });
  }

  /** The session's container, when the service runs in Docker. */
  private container: { id: string; exited: Promise<ExitInfo> } | null = null;
  /** A container is being created for this session: reconcile must not start another. */
  private launching: string | null = null;

  private async launchContainer(session: string): Promise<void> {
    const reference = this.service.metadata.reference ?? this.service.id;
    const docker = this.service.spec.runsOn?.docker ?? {};
    const start = this.service.spec.commands?.start ?? '';
    const { settings } = this.context;
    this.launching = session;
    let running: RunningContainer;
    let spec: CommandSpec;
    try {
      spec = this.commandSpec(start, session);
      running = await runContainer({
        image: docker.image ?? '',
        environment: docker.environment ?? [],
        command: start,
        workspace: settings.workspace,
        env: this.containerEnv(session),
        logPath: spec.logPath,
        mounts: [settings.workspace, join(settings.stateDir, 'outputs')],
        labels: {
          [LABEL_INSTANCE]: settings.baseEnv.TEND_INSTANCE_ID ?? '',
          [LABEL_STATE_DIR]: settings.stateDir,
          [LABEL_RESOURCE]: this.service.id,
          [LABEL_SESSION]: session,
        },
      });
    } catch (error) {
      this.launching = null;
      if (!(error instanceof DockerError || error instanceof EnvError)) {
        this.log.error({ err: error }, 'Starting the container failed');
      }
      this.dispatch({ type: 'SpawnFailed', session, message: `Cannot start service "${reference}": ${(error as Error).message}` });
      return;
    }
    this.launching = null;
    const identity = { pid: running.hostPid, pgid: running.hostPid, startTime: readProcStat(running.hostPid)?.startTime ?? '', bootId: bootId() };
    this.container = { id: running.id, exited: running.exited };
    this.record = { session, identity, logPath: spec.logPath, container: running.id };
    this.log.info({ container: running.id.slice(0, 12), session }, 'Service container started');
    void running.exited.then((exit) => {
      if (this.container?.id === running.id) this.container = null;
      this.exited(session, identity.pid, exit, start);
    });
    const ready = this.service.spec.commands?.ready ?? '';
    this.dispatch({ type: 'Spawned', session, proc: identity, awaitsReady: ready.trim() !== '' });
  }

  private exited(session: string, pid: number, exit: ExitInfo, command: string, note = ''): void {
    const state = this.state;
    this.context.settings.logs.untrack(join(this.context.settings.stateDir, 'logs', `${session}.log`));
    if (!isActive(state) || state.session !== session || state.proc.pid !== pid) return;
    this.log.info({ pid, exitCode: exit.code, signal: exit.signal }, 'Service exited');
    const reference = this.service.metadata.reference ?? this.service.id;
    const tail = this.record !== null ? readLogTail(this.record.logPath) : '';
    this.dispatch({
      type: 'ProcessExited',
      exit,
      failureMessage: describeExit(`Service "${reference}": start command "${command}"${note}`, exit, tail),
    });
  }

  /** A ready probe that runs the ready command inside the container. */
  private containerProbe(id: string, command: string, env: Readonly<Record<string, string>>) {
    const timeoutMs = this.context.settings.probe.probeTimeoutMs;
    return () => ({
      result: execInContainer(id, command, env, { timeoutMs }).then(
        ({ code, output }) => ({ ok: code === 0, output }),
        (error: unknown) => ({ ok: false, output: (error as Error).message }),
      ),
      kill: () => {},
    });
  }

  /** Delivers an asynchronous result only if it still concerns the current session. */
  private dispatchFor(session: string, event: ServiceEvent): void {
    if (isActive(this.state) && this.state.session === session) this.dispatch(event);
  }

  private run(effect: ServiceEffect): void {
    const state = this.state;
    switch (effect.type) {
      case 'startProbing': {
        if (!isActive(state)) return;
        const session = state.session;
        const { settings } = this.context;
        const spec = this.commandSpec(this.service.spec.commands?.ready ?? '', session);
        this.probe = startReadyProbe({
          command: spec.command,
          cwd: spec.cwd,
          env: spec.env,
          marker: session,
          timings: settings.probe,
          readinessTimeoutMs: this.readinessTimeoutMs(),
          onReady: () => this.dispatchFor(session, { type: 'ReadyProbePassed' }),
          onTimeout: (message) => this.dispatchFor(session, { type: 'ReadinessTimedOut', message }),
          ...(this.container !== null ? { runProbe: this.containerProbe(this.container.id, spec.command, this.containerEnv(session)) } : {}),
        });
        return;
      }
      case 'stopProbing':
        this.probe?.cancel();
        this.probe = null;
        return;
      case 'stopProcesses': {
        if (!isActive(state)) return;
        const session = state.session;
        const stop = this.service.spec.commands?.stop ?? '';
        const container = this.container;
        const done = container !== null
          ? stopContainer({
              id: container.id,
              exited: container.exited,
              stopCommand: stop.trim() === '' || effect.force ? null : { command: stop, env: this.containerEnv(session), logPath: this.record?.logPath ?? '' },
              timeoutMs: this.context.settings.stopTimeoutMs,
              force: effect.force,
            })
          : stopService({
          target: { pgids: [state.proc.pgid], marker: session, since: Number(state.proc.startTime) },
          stopCommand: stop.trim() === '' || effect.force ? null : this.commandSpec(stop, session),
          timeoutMs: this.context.settings.stopTimeoutMs,
          force: effect.force,
        });
        // After the signals went out (the scan is shared on the next tick), before the stop ends.
        setTimeout(() => faultPoint('mid-stop'), 20);
        done.then(
          (failureMessage) => this.dispatchFor(session, { type: 'StopFinished', failureMessage }),
          (error: unknown) => {
            this.log.error({ err: error }, 'Stopping the service failed');
            this.dispatchFor(session, { type: 'StopFinished', failureMessage: `Cannot stop: ${String(error)}` });
          },
        );
        return;
      }
      case 'killLeftovers': {
        const record = this.record;
        if (record === null) return;
        // A container session is the engine's to end: never signal host pids for it.
        if (record.container !== undefined) {
          void signalContainer(record.container, 'SIGKILL');
          return;
        }
        killSession({ pgids: [record.identity.pgid], marker: record.session, since: Number(record.identity.startTime) }).catch((error: unknown) =>
          this.log.error({ err: error }, 'Killing leftover processes failed'),
        );
        return;
      }
      case 'killStray':
        // Just spawned and not yet reaped: its pgid is still its own.
        sendSignal(-effect.proc.pgid, 'SIGKILL');
        return;
    }
  }
}

