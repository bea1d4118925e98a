/**
 * Runs one task execution: feeds facts to the pure `transitionExecution` and carries out the
 * effects it returns (start the steps of a group, stop running steps). A task step is a command
 * in its own process group writing to its own log file; a service step starts the service if
 * needed and ends when the service is RUNNING (or fails if it fails or stops first).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  executionWirePhase,
  isFinished,
  stepWirePhase,
  transitionExecution,
  type ExecutionEffect,
  type ExecutionEvent,
  type ExecutionState,
  type PlanShape,
} from '../domain/execution-lifecycle.js';
import { maskSecrets } from '../domain/mask.js';
import { parseOutput } from '../domain/output.js';
import { isNewerReport } from '../domain/report-order.js';
import type { Service, TaskExecution, TaskExecutionStatusReport, TaskExecutionStep } from '../domain/schema.js';
import { describeExit } from '../domain/service-lifecycle.js';
import { readLogTail } from '../runtime/log-tail.js';
import { SpawnError, spawnCommand } from '../runtime/spawn-command.js';
import { killSession, terminateSession } from '../runtime/terminate.js';
import { LABEL_INSTANCE, LABEL_RESOURCE, LABEL_SESSION, LABEL_STATE_DIR, runContainer, type RunningContainer } from '../runtime/docker-runtime.js';
import { stopContainer } from '../runtime/stop-container.js';
import type { ExitInfo } from '../domain/service-lifecycle.js';
import type { StepProcessRecords, Store } from '../store/store.js';
import { buildCommandEnv, EnvError } from './command-env.js';
import type { ServiceEngine } from './service-engine.js';
import type { EngineSettings } from './settings.js';
import type { Firing, SharedStepResult } from './firing.js';

export interface RunnerContext {
  readonly settings: EngineSettings;
  readonly store: Store;
  readonly services: ServiceEngine;
  readonly log: Logger;
  readonly logUrl: (logId: string) => string;
  readonly changed: (execution: TaskExecution) => void;
  /** The spec changed (a stop was asked for) without a status change (serve-only). */
  readonly updated: (execution: TaskExecution) => void;
  readonly finished: (runner: ExecutionRunner) => void;
  /** Set when the execution was started by a trigger firing, whose task runs it shares. */
  readonly firing: Firing | undefined;
}

/** What the runner holds for a step while it runs, to stop it. */
type LiveStep =
  | { readonly kind: 'task'; readonly pgid: number; readonly marker: string; readonly since: number; stopping: boolean }
  | { readonly kind: 'container'; readonly id: string; readonly exited: Promise<ExitInfo>; stopping: boolean }
  | { readonly kind: 'service'; readonly cancel: () => void }
  | { readonly kind: 'shared'; readonly cancel: () => void };

export function executionLogDir(stateDir: string, executionId: string): string {
  return join(stateDir, 'logs', executionId);
}

export function stepLogPath(stateDir: string, executionId: string, stepId: string): string {
  return join(executionLogDir(stateDir, executionId), `${stepId}.log`);
}

export class ExecutionRunner {
  execution: TaskExecution;
  readonly taskReference: string;
  private state: ExecutionState;
  private readonly plan: PlanShape;
  private readonly steps: Map<string, TaskExecutionStep>;
  private readonly live = new Map<string, LiveStep>();
  private readonly processes: StepProcessRecords = {};
  /** Step start and end times, for the log's section markers. */
  readonly times = new Map<string, { startedAt: number; endedAt?: number }>();
  private readonly secrets = new Set<string>();
  private readonly log: Logger;
  private inserted: boolean;

  constructor(
    private readonly context: RunnerContext,
    execution: TaskExecution,
    taskReference: string,
    state: ExecutionState,
    inserted: boolean,
  ) {
    this.execution = execution;
    this.taskReference = taskReference;
    this.state = state;
    this.inserted = inserted;
    this.plan = execution.spec.plan.map((group) => group.steps.map((step) => step.id));
    this.steps = new Map(execution.spec.plan.flatMap((group) => group.steps.map((step) => [step.id, step] as const)));
    this.log = context.log.child({ execution: execution.id, task: taskReference });
  }

  get finished(): boolean {
    return isFinished(this.state);
  }

  /** The secret values this execution resolved, for masking its logs. */
  get secretValues(): readonly string[] {
    return [...this.secrets];
  }

  stepIsLive(stepId: string): boolean {
    return this.live.has(stepId);
  }

  /** Persists the new execution (PENDING); the run begins on a later tick. */
  begin(): void {
    this.save();
    // Serve-only: the execution waits for its runner, which reports its progress.
    if (this.context.settings.execute) setImmediate(() => this.dispatch({ type: 'Began' }));
  }

  stop(): void {
    if (this.finished || this.execution.spec.desiredPhase === 'TASK_EXECUTION_PHASE_STOPPED') return;
    this.execution = { ...this.execution, spec: { ...this.execution.spec, desiredPhase: 'TASK_EXECUTION_PHASE_STOPPED' } };
    this.save();
    if (this.context.settings.execute) this.dispatch({ type: 'StopRequested' });
    else this.context.updated(this.execution);
  }

  /**
   * Serve-only: the status a runner reported becomes the execution's status as it is (its
   * statusVersion too); `state` is the lifecycle state it stands for. A repeat of the current
   * version is ignored; an older one is refused.
   */
  applyReport(report: TaskExecutionStatusReport, state: ExecutionState): void {
    if (!isNewerReport(`task execution "${this.execution.id}"`, report.statusVersion, this.execution.status.statusVersion)) return;
    const before = this.state;
    this.state = state;
    const metadata = this.stampedMetadata(report.phase !== 'TASK_EXECUTION_PHASE_PENDING');
    this.context.store.observeVersion(report.statusVersion);
    this.execution = {
      ...this.execution,
      metadata,
      status: {
        phase: report.phase,
        ...(report.failureMessage !== undefined && report.failureMessage !== '' ? { failureMessage: report.failureMessage } : {}),
        ...(report.logUrl !== undefined && report.logUrl !== '' ? { logUrl: report.logUrl } : {}),
        statusVersion: report.statusVersion,
        steps: (report.steps ?? []).map((step) => ({
          id: step.id,
          phase: step.phase,
          ...(step.failureMessage !== undefined && step.failureMessage !== '' ? { failureMessage: step.failureMessage } : {}),
          ...(step.output !== undefined && Object.keys(step.output).length > 0 ? { output: step.output } : {}),
        })),
      },
    };
    this.save();
    this.context.changed(this.execution);
    if (this.finished && !isFinished(before)) this.context.finished(this);
  }

  private dispatch(event: ExecutionEvent): void {
    const before = this.state;
    const { state, effects } = transitionExecution(this.plan, before, event);
    this.state = state;
    if (state.phase !== before.phase) this.log.info({ from: before.phase, to: state.phase }, 'Execution phase changed');
    if (state !== before) this.writeStatus(before);
    for (const effect of effects) this.run(effect);
    if (this.finished && !isFinished(before)) this.context.finished(this);
  }

  /** The metadata with startedAt set once it has started and completedAt once it has finished. */
  private stampedMetadata(started: boolean): TaskExecution['metadata'] {
    const now = new Date().toISOString();
    const metadata = { ...this.execution.metadata };
    if (started && metadata.startedAt === undefined) metadata.startedAt = now;
    if (isFinished(this.state) && metadata.completedAt === undefined) metadata.completedAt = now;
    return metadata;
  }

  private writeStatus(before: ExecutionState): void {
    const state = this.state;
    const metadata = this.stampedMetadata(before.phase === 'pending' && state.phase !== 'pending');
    const steps = 'steps' in state ? state.steps : [];
    this.execution = {
      ...this.execution,
      metadata,
      status: {
        phase: executionWirePhase(state),
        ...(state.phase === 'failed' ? { failureMessage: state.failureMessage } : {}),
        logUrl: this.context.logUrl(this.execution.id),
        statusVersion: this.context.store.nextVersion(),
        steps: steps.map((step) => ({
          id: step.id,
          phase: stepWirePhase(step.phase),
          ...(step.failureMessage !== null ? { failureMessage: step.failureMessage } : {}),
          ...(Object.keys(step.output).length > 0 ? { output: { ...step.output } } : {}),
        })),
      },
    };
    this.save();
    this.context.changed(this.execution);
  }

  private save(): void {
    const processes = Object.fromEntries(Object.entries(this.processes).filter(([id]) => this.live.has(id)));
    this.context.store.saveExecution(
      { execution: this.execution, taskReference: this.taskReference, processes },
      this.finished,
      !this.inserted,
    );
    this.inserted = true;
  }

  private run(effect: ExecutionEffect): void {
    switch (effect.type) {
      case 'startSteps':
        for (const id of effect.stepIds) this.startStep(id);
        if (effect.stepIds.some((id) => this.processes[id] !== undefined)) this.save();
        return;
      case 'stopSteps':
        for (const id of effect.stepIds) this.stopStep(id);
        return;
    }
  }

  private stepEnded(stepId: string, outcome: 'succeeded' | 'failed', failureMessage: string | null, output: Record<string, string>): void {
    this.live.delete(stepId);
    const times = this.times.get(stepId);
    if (times !== undefined) times.endedAt = Date.now();
    const secrets = [...this.secrets];
    const masked = Object.fromEntries(Object.entries(output).map(([key, value]) => [key, maskSecrets(value, secrets)]));
    this.dispatch({
      type: 'StepEnded',
      stepId,
      outcome,
      failureMessage: failureMessage === null ? null : maskSecrets(failureMessage, secrets),
      output: masked,
    });
  }

  private startStep(stepId: string): void {
    const step = this.steps.get(stepId);
    this.times.set(stepId, { startedAt: Date.now() });
    if (step === undefined) return this.stepEnded(stepId, 'failed', `Step "${stepId}" is not in the plan`, {});
    if (step.serviceId !== undefined) return this.startServiceStep(step, step.serviceId);
    return this.startTaskStep(step);
  }

  private startTaskStep(step: TaskExecutionStep): void {
    const claim = this.context.firing?.claim(step.id, this.execution.id);
    if (claim !== undefined && !claim.owner) return this.awaitSharedStep(step, claim.ownerExecutionId, claim.result);
    const publish = claim?.owner === true ? claim.publish : undefined;
    const { settings } = this.context;
    const spec = step.task?.spec ?? {};
    const command = spec.command ?? '';
    const marker = `${this.execution.id}/${step.id}`;
    const logPath = stepLogPath(settings.stateDir, this.execution.id, step.id);
    const outputPath = join(settings.stateDir, 'outputs', `${this.execution.id}-${step.id}.env`);
    if (spec.runsOn?.docker !== undefined) {
      void this.startContainerStep(step, publish);
      return;
    }
    let spawned;
    try {
      mkdirSync(join(settings.stateDir, 'outputs'), { recursive: true });
      const env = buildCommandEnv(settings.baseEnv, spec.env, join(settings.stateDir, 'secrets'), { GITPOD_OUTPUT: outputPath });
      for (const secret of env.secrets) this.secrets.add(secret);
      spawned = spawnCommand({ command, cwd: settings.workspace, env: env.env, logPath, marker });
    } catch (error) {
      if (!(error instanceof SpawnError || error instanceof EnvError)) throw error;
      const message = `Cannot start task "${step.label}": ${error.message}`;
      publish?.({ outcome: 'failed', failureMessage: message, output: {} });
      return this.stepEnded(step.id, 'failed', message, {});
    }
    const live: LiveStep = { kind: 'task', pgid: spawned.identity.pgid, marker, since: Number(spawned.identity.startTime), stopping: false };
    this.live.set(step.id, live);
    this.processes[step.id] = { session: marker, identity: spawned.identity, logPath };
    settings.logs.track(logPath);
    this.log.info({ step: step.label, pid: spawned.identity.pid }, 'Step started');
    void spawned.exited.then(async (exit) => {
      settings.logs.untrack(logPath);
      // Whatever the command left behind goes with it, before the step is reported ended.
      await killSession({ pgids: [live.pgid], marker, since: Number(spawned.identity.startTime) }).catch(() => {});
      const output = readOutput(outputPath);
      const ok = exit.code === 0 && exit.signal === null;
      this.log.info({ step: step.label, exitCode: exit.code, signal: exit.signal }, 'Step exited');
      const failureMessage = ok ? null : maskSecrets(describeExit(`Task "${step.label}": command "${command}"`, exit, readLogTail(logPath)), [...this.secrets]);
      publish?.({ outcome: ok ? 'succeeded' : 'failed', failureMessage, output });
      this.stepEnded(step.id, ok ? 'succeeded' : 'failed', failureMessage, output);
    });
  }

  /** A task step in a Docker container: the same outcome rules as on the machine. */
  private async startContainerStep(step: TaskExecutionStep, publish: ((result: SharedStepResult) => void) | undefined): Promise<void> {
    const { settings } = this.context;
    const spec = step.task?.spec ?? {};
    const command = spec.command ?? '';
    const docker = spec.runsOn?.docker ?? {};
    const logPath = stepLogPath(settings.stateDir, this.execution.id, step.id);
    const outputPath = join(settings.stateDir, 'outputs', `${this.execution.id}-${step.id}.env`);
    let running: RunningContainer;
    try {
      mkdirSync(join(settings.stateDir, 'outputs'), { recursive: true });
      const env = buildCommandEnv({}, spec.env, join(settings.stateDir, 'secrets'), {
        GITPOD_OUTPUT: outputPath,
        GITPOD_ENVIRONMENT_ID: settings.baseEnv.GITPOD_ENVIRONMENT_ID ?? '',
      });
      for (const secret of env.secrets) this.secrets.add(secret);
      running = await runContainer({
        image: docker.image ?? '',
        environment: docker.environment ?? [],
        command,
        workspace: settings.workspace,
        env: env.env,
        logPath,
        mounts: [settings.workspace, join(settings.stateDir, 'outputs')],
        labels: {
          [LABEL_INSTANCE]: settings.baseEnv.TEND_INSTANCE_ID ?? '',
          [LABEL_STATE_DIR]: settings.stateDir,
          [LABEL_RESOURCE]: this.execution.id,
          [LABEL_SESSION]: `${this.execution.id}/${step.id}`,
        },
      });
    } catch (error) {
      const message = `Cannot start task "${step.label}": ${(error as Error).message}`;
      publish?.({ outcome: 'failed', failureMessage: message, output: {} });
      return this.stepEnded(step.id, 'failed', message, {});
    }
    const live: LiveStep = { kind: 'container', id: running.id, exited: running.exited, stopping: false };
    this.live.set(step.id, live);
    this.log.info({ step: step.label, container: running.id.slice(0, 12) }, 'Step container started');
    const exit = await running.exited;
    const output = readOutput(outputPath);
    const ok = exit.code === 0 && exit.signal === null;
    const failureMessage = ok ? null : maskSecrets(describeExit(`Task "${step.label}": command "${command}"`, exit, readLogTail(logPath)), [...this.secrets]);
    publish?.({ outcome: ok ? 'succeeded' : 'failed', failureMessage, output });
    this.stepEnded(step.id, ok ? 'succeeded' : 'failed', failureMessage, output);
  }

  /** The same task already runs for this firing in another execution: wait for its result. */
  private awaitSharedStep(step: TaskExecutionStep, ownerExecutionId: string, result: Promise<SharedStepResult>): void {
    const logPath = stepLogPath(this.context.settings.stateDir, this.execution.id, step.id);
    mkdirSync(executionLogDir(this.context.settings.stateDir, this.execution.id), { recursive: true });
    writeFileSync(logPath, `[tend] "${step.label}" runs once for this trigger: its output is in execution ${ownerExecutionId}\n`);
    let cancelled = false;
    this.live.set(step.id, { kind: 'shared', cancel: () => (cancelled = true) });
    void result.then((shared) => {
      if (!cancelled) this.stepEnded(step.id, shared.outcome, shared.failureMessage, { ...shared.output });
    });
  }

  private startServiceStep(step: TaskExecutionStep, serviceId: string): void {
    const { services } = this.context;
    // Which session to wait for is known once start() returned; start() itself emits changes
    // (the spec, then the spawn) that must not be judged against a session not chosen yet.
    let session: string | undefined;
    const settle = (service: Service): boolean => {
      const { phase, failureMessage } = service.status;
      if (phase === 'SERVICE_PHASE_DELETED') {
        this.stepEnded(step.id, 'failed', `Service "${step.label}" was deleted before it was ready`, {});
        return true;
      }
      if (service.status.session !== session) return false;
      if (phase === 'SERVICE_PHASE_RUNNING') {
        this.stepEnded(step.id, 'succeeded', null, { ...service.status.output });
      } else if (phase === 'SERVICE_PHASE_FAILED') {
        this.stepEnded(step.id, 'failed', `Service "${step.label}" failed: ${failureMessage ?? 'no reason given'}`, {});
      } else if (phase === 'SERVICE_PHASE_STOPPED') {
        this.stepEnded(step.id, 'failed', `Service "${step.label}" stopped before it was ready`, {});
      } else {
        return false;
      }
      return true;
    };
    const listener = (_kind: string, service: Service): void => {
      if (session === undefined || service.id !== serviceId || !this.live.has(step.id)) return;
      if (settle(service)) services.off('change', listener);
    };
    const cancel = (): void => {
      services.off('change', listener);
    };
    this.live.set(step.id, { kind: 'service', cancel });
    services.on('change', listener);
    try {
      services.start(serviceId);
      const service = services.get(serviceId);
      session = service.spec.session;
      if (settle(service)) cancel();
    } catch (error) {
      cancel();
      this.stepEnded(step.id, 'failed', `Cannot start service "${step.label}": ${(error as Error).message}`, {});
    }
  }

  private stopStep(stepId: string): void {
    const live = this.live.get(stepId);
    if (live === undefined) return;
    if (live.kind === 'service' || live.kind === 'shared') {
      live.cancel();
      this.stepEnded(stepId, 'failed', null, {});
      return;
    }
    if (live.stopping) return;
    live.stopping = true;
    if (live.kind === 'container') {
      void stopContainer({ id: live.id, exited: live.exited, stopCommand: null, timeoutMs: this.context.settings.taskStopTimeoutMs, force: false });
      return;
    }
    terminateSession({ pgids: [live.pgid], marker: live.marker, since: live.since }, this.context.settings.taskStopTimeoutMs).catch(
      (error: unknown) => this.log.error({ err: error, step: stepId }, 'Stopping a step failed'),
    );
  }
}

function readOutput(path: string): Record<string, string> {
  try {
    return parseOutput(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}
