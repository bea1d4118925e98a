/**
 * Runs one task execution on this daemon: feeds facts to the pure `transitionExecution` and
 * carries out the effects it returns (start the steps of a group, stop running steps), one file
 * per kind of step. It is the only writer of its execution once it exists; every status it writes
 * is the projection of its state, with a fresh statusVersion.
 */
import type { Logger } from '../../domain/logger.js';
import { failedPrecondition } from '../../domain/errors.js';
import {
  isFinished,
  transitionExecution,
  type ExecutionEffect,
  type ExecutionEvent,
  type ExecutionState,
  type PlanShape,
} from '../../domain/execution-lifecycle.js';
import { executionStatus } from '../../domain/execution-status.js';
import { maskSecrets } from '../../domain/mask.js';
import type { TaskExecution, TaskExecutionStep } from '../../domain/schema.js';
import type { SessionRecord } from '../../domain/session-record.js';
import type { StepProcessRecords } from '../../store/store.js';
import type { Firing } from '../firing.js';
import type { ExecutionLogSource } from '../log-source.js';
import type { ServiceEngine } from '../services/service-engine.js';
import type { EngineParts } from '../settings.js';
import { executionLogSource, type StepTimes } from './execution-log.js';
import type { ExecutionKeeper, ExecutionKeeperContext } from './execution-keeper.js';
import { startServiceStep } from './service-step.js';
import { startClaimedStep } from './shared-step.js';
import type { StepEvents, StepHandle, StepOutcome } from './step.js';
import { startTaskStep } from './task-step.js';
import { utcNow } from '../../domain/utc-time.js';

/** The largest next group whose files are made ahead (makeFilesAfter). */
const FILES_AHEAD_MAX_STEPS = 8;

export class ExecutionRunner implements ExecutionKeeper {
  execution: TaskExecution;
  private state: ExecutionState;
  private readonly plan: PlanShape;
  private readonly steps: Map<string, { step: TaskExecutionStep; index: number }>;
  private readonly live = new Map<string, StepHandle>();
  private readonly records: Record<string, SessionRecord> = {};
  private readonly times = new Map<string, StepTimes>();
  private readonly secrets = new Set<string>();
  private readonly finishWaiters: Array<() => void> = [];
  private readonly log: Logger;

  constructor(
    private readonly parts: EngineParts,
    private readonly services: ServiceEngine,
    private readonly context: ExecutionKeeperContext,
    execution: TaskExecution,
    readonly taskReference: string,
    private readonly firing: Firing | undefined,
    private inserted: boolean,
    state: ExecutionState,
  ) {
    this.execution = execution;
    this.state = state;
    this.plan = execution.spec.plan.map((group) => group.steps.map((step) => step.id));
    const flat = execution.spec.plan.flatMap((group) => group.steps);
    this.steps = new Map(flat.map((step, index) => [step.id, { step, index }] as const));
    this.log = parts.log.child({ execution: execution.id, task: taskReference });
  }

  get finished(): boolean {
    return isFinished(this.state);
  }

  begin(): void {
    this.save();
    setImmediate(() => this.dispatch({ type: 'Began' }));
  }

  stop(): void {
    if (this.finished || this.execution.spec.desiredPhase === 'TASK_EXECUTION_PHASE_STOPPED') return;
    this.execution = { ...this.execution, spec: { ...this.execution.spec, desiredPhase: 'TASK_EXECUTION_PHASE_STOPPED' } };
    this.save();
    this.dispatch({ type: 'StopRequested' });
  }

  report(): void {
    throw failedPrecondition(
      'This daemon runs its task executions itself, so it takes no status reports: send them to a daemon started with --serve-only (a control plane)',
    );
  }

  shutdown(): Promise<void> {
    if (this.finished) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.finishWaiters.push(resolve));
    this.stop();
    return done;
  }

  /** After a daemon restart (its step processes already stopped): what its stored status becomes. */
  recover(): void {
    const { statusVersion: _version, ...status } = this.execution.status;
    this.dispatch({ type: 'Recovered', status });
  }

  persist(): void {
    this.execution = { ...this.execution, status: { ...this.execution.status, statusVersion: this.parts.store.nextVersion() } };
    this.save();
    this.context.changed(this.execution);
  }

  logSource(): ExecutionLogSource {
    return executionLogSource(this.parts.settings.layout, {
      execution: () => this.execution,
      finished: () => this.finished,
      live: (stepId) => this.live.has(stepId),
      times: this.times,
      // After a restart the secrets are the ones recorded while it ran.
      secrets: () => (this.secrets.size > 0 ? [...this.secrets] : this.parts.store.runs.secrets(this.execution.id)),
    });
  }

  private dispatch(event: ExecutionEvent): void {
    const before = this.state;
    const { state, effects } = transitionExecution(this.plan, before, event);
    this.state = state;
    if (state.phase !== before.phase) this.log.info({ from: before.phase, to: state.phase }, 'Execution phase changed');
    // A new phase, and the end, are written at once (the keeper acts on them). A status whose
    // phase stays is written once per turn of the event loop: the 200 steps of a group end within
    // a few turns, and each write projects, compares and stores the whole execution (all its
    // steps), so one write per step end made a group's cost grow with the square of its size. It
    // is scheduled after the effects, so that the spawner gets the next steps' commands before the
    // daemon projects, stores and announces this one.
    const now = state !== before && (state.phase !== before.phase || this.finished);
    if (now) this.writeStatusNow(before);
    for (const effect of effects) this.carryOut(effect);
    if (state !== before && !now) {
      this.due.status = true;
      this.scheduleWrite();
    }
    if (this.finished && !isFinished(before)) {
      for (const resolve of this.finishWaiters.splice(0)) resolve();
      this.context.finished();
    }
  }

  /** What the next turn writes: the status (projected then), or only the steps' process records. */
  private readonly due = { status: false, records: false, scheduled: false };

  private scheduleWrite(): void {
    if (this.due.scheduled) return;
    this.due.scheduled = true;
    setImmediate(() => {
      this.due.scheduled = false;
      if (this.due.status) this.writeStatusNow(this.state);
      else if (this.due.records) this.save();
    });
  }

  private writeStatusNow(before: ExecutionState): void {
    this.due.status = false;
    const now = utcNow();
    const metadata = { ...this.execution.metadata };
    if (before.phase === 'pending' && this.state.phase !== 'pending' && this.state.phase !== 'recorded') metadata.startedAt ??= now;
    if (this.finished) metadata.completedAt ??= now;
    const projected = executionStatus(this.state, this.parts.logUrl(this.execution.id));
    const { statusVersion: _version, ...current } = this.execution.status;
    // A recovered execution that had finished stays exactly as it was stored.
    if (JSON.stringify(projected) === JSON.stringify(current) && JSON.stringify(metadata) === JSON.stringify(this.execution.metadata)) return;
    const status = { ...projected, statusVersion: this.parts.store.nextVersion() };
    this.execution = { ...this.execution, metadata, status };
    this.save();
    this.context.changed(this.execution);
  }

  private save(): void {
    this.due.records = false;
    const processes: StepProcessRecords = Object.fromEntries(Object.entries(this.records).filter(([id]) => this.live.has(id)));
    this.parts.store.executions.save({ execution: this.execution, taskReference: this.taskReference, processes }, this.finished, !this.inserted);
    this.inserted = true;
  }

  private carryOut(effect: ExecutionEffect): void {
    switch (effect.type) {
      case 'startSteps':
        for (const id of effect.stepIds) this.startStep(id);
        this.makeFilesAfter(effect.stepIds);
        return;
      case 'stopSteps':
        for (const id of effect.stepIds) this.live.get(id)?.stop();
        return;
    }
  }

  /**
   * The files of the group after the one that starts (their logs and GITPOD_OUTPUT files), made
   * while it runs, so that the next group's starts create none: a chain of tasks made two files
   * on the way of each step (1.1 to 1.4 ms of its 6 on this project's disk). A group of many
   * steps creates its files side by side anyway, and would leave many empty files if this one failed.
   */
  private makeFilesAfter(stepIds: readonly string[]): void {
    const group = stepIds.length > 0 ? this.plan.findIndex((ids) => ids.includes(stepIds[0]!)) : -1;
    const next = group < 0 ? undefined : this.plan[group + 1];
    if (next === undefined || next.length > FILES_AHEAD_MAX_STEPS) return;
    const { layout } = this.parts.settings;
    const paths: string[] = [];
    for (const id of next) {
      const found = this.steps.get(id);
      if (found === undefined || found.step.serviceId !== undefined) continue;
      paths.push(layout.stepLog(this.execution.id, found.index), layout.stepOutput(this.execution.id, found.index));
    }
    this.parts.runtime.makeFiles?.(paths);
  }

  private startStep(stepId: string): void {
    this.times.set(stepId, { startedAt: Date.now() });
    const found = this.steps.get(stepId);
    const events = this.stepEvents(stepId);
    if (found === undefined) return events.ended({ outcome: 'failed', failureMessage: `Step "${stepId}" is not in the plan`, output: {} });
    const { step, index } = found;
    // A placeholder until the step's start returns: a step may end (or be stopped) before that.
    const slot: { handle?: StepHandle } = {};
    const placeholder: StepHandle = { stop: () => slot.handle?.stop() };
    this.live.set(stepId, placeholder);
    const handle =
      step.serviceId !== undefined
        ? startServiceStep(this.services, step, step.serviceId, events)
        : startClaimedStep(this.parts.settings, this.firing, this.execution.id, step, index, events, (claimed) =>
            startTaskStep(this.parts, this.execution.id, step, index, claimed),
          );
    slot.handle = handle;
    if (this.live.get(stepId) === placeholder) this.live.set(stepId, handle);
  }

  private stepEvents(stepId: string): StepEvents {
    let ended = false;
    return {
      resolved: (secrets) => {
        if (secrets.values.length === 0) return;
        for (const value of secrets.values) this.secrets.add(value);
        this.parts.store.runs.record(this.execution.id, this.execution.id, [...this.secrets]);
      },
      started: (record) => {
        if (ended) return;
        this.records[stepId] = record;
        this.due.records = true;
        this.scheduleWrite();
      },
      ended: (outcome) => {
        if (ended) return;
        ended = true;
        this.stepEnded(stepId, outcome);
      },
    };
  }

  private stepEnded(stepId: string, { outcome, failureMessage, output }: StepOutcome): void {
    this.live.delete(stepId);
    delete this.records[stepId];
    const times = this.times.get(stepId);
    if (times !== undefined) times.endedAt = Date.now();
    const secrets = [...this.secrets];
    const masked = Object.fromEntries(Object.entries(output).map(([key, value]) => [key, maskSecrets(value, secrets)]));
    this.dispatch({ type: 'StepEnded', stepId, outcome, failureMessage: failureMessage === null ? null : maskSecrets(failureMessage, secrets), output: masked });
  }
}
