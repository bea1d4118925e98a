/**
 * Drives one service toward its document's `spec.desiredPhase`, on a daemon that runs its
 * services. Every observed fact becomes an event for the pure `transitionService`; this class
 * carries out the effects it returns through the runtime (which decides where the command
 * runs), and writes the status (the projection of the state, with a fresh statusVersion)
 * whenever it changes. It writes only the status; the engine writes the document.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '../../domain/logger.js';
import { failedPrecondition } from '../../domain/errors.js';
import type { ServiceStatus } from '../../domain/schema.js';
import {
  describeExit,
  isActive,
  transitionService,
  type ExitInfo,
  type ProcessIdentity,
  type ServiceEffect,
  type ServiceEvent,
  type ServiceState,
  type StoredRun,
} from '../../domain/service-lifecycle.js';
import { sameStatus, serviceStatus } from '../../domain/service-status.js';
import { faultPoint } from '../../runtime/fault.js';
import { readLogTail } from '../../runtime/log-tail.js';
import type { ListeningPort, Session } from '../../runtime/runtime.js';
import { portInUse, withPortHolder } from './port-conflicts.js';
import { EnvError, SessionSecrets } from '../secrets.js';
import type { EngineParts } from '../settings.js';
import type { ReadinessWait, ReadyProbing } from './ready-probing.js';
import { probeUntilReady, stopSession } from './service-effects.js';
import type { ServiceKeeper, ServiceKeeperContext } from './service-keeper.js';
import { newRunId, prepareRun, recordRun, rereadRunOutput } from './service-run.js';

/** What the controller knows of the run its state names: secrets to mask with, its outputs. */
interface RunInfo {
  readonly runId: string;
  readonly secrets: SessionSecrets;
  output: Record<string, string>;
}

export class ServiceController implements ServiceKeeper {
  private state: ServiceState;
  private current: ServiceStatus;
  private run: RunInfo | null = null;
  private session: Session | null = null;
  /** A session that started after another one won the race (see killStray). */
  private stray: Session | null = null;
  private probing: ReadyProbing | null = null;
  /** A session being started (reconcile must not start another; shutdown awaits it). */
  private launching: Promise<void> | null = null;
  private forced = false;
  private shuttingDown = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly log: Logger;

  constructor(
    private readonly parts: EngineParts,
    private readonly context: ServiceKeeperContext,
    state: ServiceState,
    status: ServiceStatus,
  ) {
    this.state = state;
    this.current = status;
    this.log = parts.log.child({ service: context.document().metadata.reference, serviceId: context.id });
  }

  get status(): ServiceStatus {
    return this.current;
  }

  get active(): boolean {
    return isActive(this.state);
  }

  get up(): boolean {
    return this.launching !== null || this.state.phase === 'starting' || this.state.phase === 'running';
  }

  get id(): string {
    return this.context.id;
  }
  /** The run whose log and outputs this service writes now (or wrote last). */
  get runId(): string | null {
    return this.run?.runId ?? null;
  }

  get secrets(): SessionSecrets {
    return this.run?.secrets ?? SessionSecrets.NONE;
  }

  forceStop(): void {
    this.forced = true;
  }

  report(): void {
    throw failedPrecondition('This daemon runs its services itself, so it takes no status reports: send them to a daemon started with --serve-only (a control plane)');
  }

  remove(): void {
    this.dispatch({ type: 'Removed' });
  }

  shutdown(): Promise<void> {
    this.shuttingDown = true;
    // A launch in flight is not active yet: what it starts is stopped once it has started.
    if (this.launching !== null) return this.launching.then(() => this.shutdown(), () => this.shutdown());
    if (!isActive(this.state)) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.state.phase !== 'stopping') this.dispatch({ type: 'StopRequested', force: false });
    return idle;
  }

  /**
   * After a daemon restart: `adopted` is the recorded session, taken over by the runtime, or
   * null (then `lostBecause` says why). An adopted session's exit is awaited and, if it was
   * starting, it is probed again.
   */
  recover(stored: StoredRun, adopted: Session | null, lostBecause: string): void {
    if (stored.runId !== null) {
      // The values it ran with, as recorded (the secret files may have changed since).
      const recorded = this.parts.store.runs.secrets(stored.runId);
      const secrets = recorded.length > 0 ? new SessionSecrets(recorded) : prepareRun(this.context.document(), stored.session ?? '', stored.runId, this.parts.settings, true).secrets;
      this.run = { runId: stored.runId, secrets, output: {} };
    }
    if (adopted !== null) this.follow(adopted, this.context.document().spec.commands?.start ?? '');
    this.dispatch({ type: 'Recovered', stored, adopted: adopted?.record.identity ?? null, lostBecause });
  }

  /** Compares what is wanted with what is, and acts on the difference. */
  reconcile(): void {
    const state = this.state;
    if (!isActive(state)) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (this.shuttingDown || this.launching !== null) return;
    if (!isActive(state) && this.context.settled()) return;
    const { desiredPhase, session } = this.context.document().spec;
    if (desiredPhase === 'SERVICE_PHASE_RUNNING') {
      if ((state.phase === 'stopped' || state.phase === 'failed') && session !== undefined && session !== state.session) this.launch(session);
      return;
    }
    if ((desiredPhase === 'SERVICE_PHASE_STOPPED' || desiredPhase === 'SERVICE_PHASE_DELETED') && isActive(state)) {
      if (state.phase !== 'stopping' || this.forced) this.dispatch({ type: 'StopRequested', force: this.forced });
    }
  }

  /** The run's GITPOD_OUTPUT file changed (the outputs directory's watch says so); it is read again at every phase change too. */
  outputChanged(): void {
    if (this.run !== null && rereadRunOutput(this.parts.settings.layout, this.run)) this.writeStatus();
  }

  private launch(session: string): void {
    const document = this.context.document();
    const reference = document.metadata.reference ?? document.id;
    const runId = newRunId();
    let prepared;
    try {
      prepared = prepareRun(document, session, runId, this.parts.settings);
    } catch (error) {
      if (!(error instanceof EnvError)) throw error;
      this.run = { runId, secrets: SessionSecrets.NONE, output: {} };
      this.dispatch({ type: 'SpawnFailed', session, runId, message: `Cannot start service "${reference}": ${error.message}` });
      return;
    }
    this.run = { runId, secrets: prepared.secrets, output: {} };
    recordRun(this.parts, this.context.id, prepared);
    const awaitsReady = (document.spec.commands?.ready ?? '').trim() !== '';
    this.launching = this.parts.runtime.start(prepared.spec).then(
      (started) => {
        faultPoint('after-spawn');
        this.launching = null;
        this.log.info({ pid: started.record.identity.pid, session }, 'Service spawned');
        this.stray = started;
        if (this.follow(started, prepared.spec.command)) this.stray = null;
        this.dispatch({ type: 'Spawned', session, runId, proc: started.record.identity, awaitsReady });
      },
      (error: unknown) => {
        this.launching = null;
        if ((error as Error).name !== 'LaunchError') this.log.error({ err: error }, 'Starting the service failed');
        this.dispatch({ type: 'SpawnFailed', session, runId, message: `Cannot start service "${reference}": ${(error as Error).message}` });
      },
    );
  }

  /** Takes `session` as the service's (unless another one is alive) and awaits its exit. */
  private follow(session: Session, command: string): boolean {
    if (this.session !== null && isActive(this.state)) return false;
    this.session = session;
    const runId = session.record.runId;
    void session.exited.then((exit) => this.exited(runId, exit, command));
    return true;
  }

  private exited(runId: string, exit: ExitInfo, command: string): void {
    const state = this.state;
    if (!isActive(state) || state.runId !== runId) return;
    this.log.info({ pid: state.proc.pid, exitCode: exit.code, signal: exit.signal }, 'Service exited');
    const reference = this.context.document().metadata.reference ?? this.context.id;
    const tail = this.session !== null ? readLogTail(this.session.record.logPath) : '';
    const failure = describeExit(`Service "${reference}": start command "${command}"`, exit, tail);
    // A port in use is named near the top of a stack trace: look further back than the tail shown.
    const output = this.session !== null ? readLogTail(this.session.record.logPath, 60) : '';
    if (portInUse(output) === null) return this.dispatch({ type: 'ProcessExited', exit, failureMessage: failure });
    void withPortHolder(this.parts.runtime, failure, output, reference).then((message) => this.dispatchFor(runId, { type: 'ProcessExited', exit, failureMessage: message }));
  }

  /** The ports its current session's processes listen on (none while it is not active). */
  listeningPorts(): Promise<ListeningPort[]> {
    return isActive(this.state) && this.session !== null ? this.session.listeningPorts() : Promise.resolve([]);
  }

  private dispatch(event: ServiceEvent): void {
    const before = this.state;
    const { state, effects } = transitionService(before, event);
    this.state = state;
    if (state.phase !== before.phase) {
      this.log.info({ from: before.phase, to: state.phase, event: event.type }, 'Service phase changed');
      if (this.run !== null) rereadRunOutput(this.parts.settings.layout, this.run);
    }
    this.writeStatus();
    for (const effect of effects) this.carryOut(effect);
    if (state !== before) this.reconcile();
  }

  persist(): void {
    this.write({ ...this.current, statusVersion: this.parts.store.nextVersion() });
  }

  /** Writes the projection of the state, with a new version, when it differs from the last one. */
  private writeStatus(): void {
    const run = this.run !== null && 'runId' in this.state && this.state.runId === this.run.runId ? this.run : null;
    const next = serviceStatus(this.state, {
      // There is a log to read once the run began (a run that failed to start has none).
      logUrl: (runId) => (isActive(this.state) || existsSync(this.parts.settings.layout.runLog(runId)) ? this.parts.logUrl(runId) : undefined),
      output: run?.output ?? {},
      mask: (text) => run?.secrets.mask(text) ?? text,
    });
    if (sameStatus(next, this.current)) return;
    this.write({ ...next, statusVersion: this.parts.store.nextVersion() });
  }

  private write(status: ServiceStatus): void {
    this.current = status;
    const runId = 'runId' in this.state ? this.state.runId : null;
    const record = runId === null ? null : { runId, session: isActive(this.state) ? (this.session?.record ?? null) : null };
    this.parts.store.services.updateStatus(this.context.id, status, record);
    this.context.statusChanged(status);
  }

  /** Delivers an asynchronous result only if it still concerns the current run. */
  private dispatchFor(runId: string, event: ServiceEvent): void {
    if (isActive(this.state) && this.state.runId === runId) this.dispatch(event);
  }

  private carryOut(effect: ServiceEffect): void {
    const state = this.state;
    switch (effect.type) {
      case 'startProbing':
        if (isActive(state) && this.session !== null) {
          const runId = state.runId;
          this.probing = probeUntilReady(this.parts, this.log, this.context.document(), this.session, this.secrets, (event) => this.dispatchFor(runId, event));
        }
        return;
      case 'stopProbing':
        this.probing?.cancel();
        this.probing = null;
        return;
      case 'stopProcesses':
        if (isActive(state) && this.session !== null) {
          const runId = state.runId;
          stopSession(this.parts, this.log, this.context.document(), this.session, effect.force, (event) => this.dispatchFor(runId, event));
        }
        return;
      case 'killLeftovers':
        this.session?.killLeftovers().catch((error: unknown) => this.log.error({ err: error }, 'Killing leftover processes failed'));
        return;
      case 'killStray':
        // A session that lost the race to another: its processes are not the service's and go at once.
        if (this.stray?.record.identity.pid === effect.proc.pid) this.stray.stop({ stopCommand: null, timeoutMs: 0, force: true }).catch(() => {});
        this.stray = null;
        return;
    }
  }

  /** While STARTING with a ready command: what it waits for and what its last probe said (masked). */
  get readiness(): ReadinessWait | null {
    const wait = this.state.phase === 'starting' ? this.probing?.waiting : undefined;
    if (wait === undefined) return null;
    return wait.lastProbe === null ? wait : { ...wait, lastProbe: { ...wait.lastProbe, output: this.secrets.mask(wait.lastProbe.output) } };
  }

  /** Its session's process while it has one (GetStatus `processes`). */
  get process(): ProcessIdentity | null {
    return 'proc' in this.state ? this.state.proc : null;
  }
}
