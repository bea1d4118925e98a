/**
 * The task execution lifecycle as one pure function:
 * `transitionExecution(plan, state, event) → {state, effects}`. Groups run in order, the steps
 * of a group together. A failed step fails the execution at once (`failing`: FAILED on the wire)
 * while the other running steps of its group finish and are reported; later groups never start,
 * so their steps never appear; it has finished once they have ended. A stop ends every running
 * step and the execution is STOPPED (a failing one stops its steps and stays FAILED). An execution loaded after a daemon restart, and a serve-only
 * daemon's reported one, are `recorded`: their status is as stored or reported, not run here.
 * `domain/execution-status.ts` projects a state onto the wire.
 */
import type { TaskExecution, TaskExecutionPhase } from './schema.js';

/** An execution's wire status without its version (the writer stamps it). */
export type ExecutionWireStatus = Omit<TaskExecution['status'], 'statusVersion'>;

/** Why a recovered execution that was still running ends FAILED. */
export const DAEMON_STOPPED_MESSAGE = 'The tend daemon stopped while this execution was running; its steps were stopped';

export type StepPhase = 'running' | 'succeeded' | 'failed' | 'stopped';

export interface StepState {
  readonly id: string;
  readonly phase: StepPhase;
  readonly failureMessage: string | null;
  readonly output: Readonly<Record<string, string>>;
}

export type ExecutionState =
  | { readonly phase: 'pending' }
  | { readonly phase: 'running'; readonly group: number; readonly steps: readonly StepState[] }
  /**
   * A step failed (the first failure's message) while others of its group still run: FAILED
   * already, finished once they end. `stopping`: a stop was asked for meanwhile.
   */
  | { readonly phase: 'failing'; readonly steps: readonly StepState[]; readonly failureMessage: string; readonly stopping: boolean }
  | { readonly phase: 'stopping'; readonly steps: readonly StepState[] }
  | { readonly phase: 'succeeded'; readonly steps: readonly StepState[] }
  | { readonly phase: 'failed'; readonly steps: readonly StepState[]; readonly failureMessage: string }
  | { readonly phase: 'stopped'; readonly steps: readonly StepState[] }
  | { readonly phase: 'recorded'; readonly status: ExecutionWireStatus };

export type ExecutionEvent =
  | { readonly type: 'Began' }
  | {
      readonly type: 'StepEnded';
      readonly stepId: string;
      readonly outcome: 'succeeded' | 'failed';
      readonly failureMessage: string | null;
      readonly output: Readonly<Record<string, string>>;
    }
  | { readonly type: 'StepOutput'; readonly stepId: string; readonly output: Readonly<Record<string, string>> }
  | { readonly type: 'StopRequested' }
  /** A daemon started and found this execution's stored status (its step processes already stopped). */
  | { readonly type: 'Recovered'; readonly status: ExecutionWireStatus }
  /** Serve-only: the status its runner reported. */
  | { readonly type: 'Reported'; readonly status: ExecutionWireStatus };

export type ExecutionEffect =
  | { readonly type: 'startSteps'; readonly stepIds: readonly string[] }
  | { readonly type: 'stopSteps'; readonly stepIds: readonly string[] };

export interface ExecutionTransition {
  readonly state: ExecutionState;
  readonly effects: readonly ExecutionEffect[];
}

/** Step ids by group, in plan order. */
export type PlanShape = readonly (readonly string[])[];

const stay = (state: ExecutionState): ExecutionTransition => ({ state, effects: [] });

const running = (ids: readonly string[]): StepState[] =>
  ids.map((id) => ({ id, phase: 'running', failureMessage: null, output: {} }));

function startGroup(plan: PlanShape, group: number, steps: readonly StepState[]): ExecutionTransition {
  const ids = plan[group] ?? [];
  return {
    state: { phase: 'running', group, steps: [...steps, ...running(ids)] },
    effects: [{ type: 'startSteps', stepIds: ids }],
  };
}

function replaceStep(steps: readonly StepState[], id: string, change: Partial<StepState>): StepState[] {
  return steps.map((step) => (step.id === id ? { ...step, ...change } : step));
}

function isRunning(steps: readonly StepState[], id: string): boolean {
  return steps.some((step) => step.id === id && step.phase === 'running');
}

const runningIds = (steps: readonly StepState[]): string[] => steps.filter((step) => step.phase === 'running').map((step) => step.id);

/** A step's end during a stop: a step that still managed to succeed keeps it; any other end is the stop's doing. */
function stoppedStep(steps: readonly StepState[], event: Extract<ExecutionEvent, { type: 'StepEnded' }>): StepState[] {
  return replaceStep(steps, event.stepId, {
    phase: event.outcome === 'succeeded' ? 'succeeded' : 'stopped',
    failureMessage: null,
    output: event.output,
  });
}

export function transitionExecution(plan: PlanShape, state: ExecutionState, event: ExecutionEvent): ExecutionTransition {
  switch (state.phase) {
    case 'pending':
      switch (event.type) {
        case 'Began':
          return plan.length === 0 ? stay({ phase: 'succeeded', steps: [] }) : startGroup(plan, 0, []);
        case 'StopRequested':
          return stay({ phase: 'stopped', steps: [] });
        case 'StepEnded':
        case 'StepOutput':
          return stay(state);
        case 'Recovered':
          return stay({ phase: 'recorded', status: recoveredStatus(event.status) });
        case 'Reported':
          return stay({ phase: 'recorded', status: event.status });
      }
      return assertNever(event);

    case 'running':
      switch (event.type) {
        case 'Began':
        case 'Recovered':
        case 'Reported':
          return stay(state);
        case 'StepOutput':
          if (!isRunning(state.steps, event.stepId)) return stay(state);
          return stay({ ...state, steps: replaceStep(state.steps, event.stepId, { output: event.output }) });
        case 'StopRequested':
          return { state: { phase: 'stopping', steps: state.steps }, effects: [{ type: 'stopSteps', stepIds: runningIds(state.steps) }] };
        case 'StepEnded': {
          if (!isRunning(state.steps, event.stepId)) return stay(state);
          const steps = replaceStep(state.steps, event.stepId, {
            phase: event.outcome,
            failureMessage: event.failureMessage,
            output: event.output,
          });
          const stillRunning = steps.some((step) => step.phase === 'running');
          if (event.outcome === 'failed') {
            const failureMessage = event.failureMessage ?? 'A step failed';
            return stay(stillRunning ? { phase: 'failing', steps, failureMessage, stopping: false } : { phase: 'failed', steps, failureMessage });
          }
          if (stillRunning) return stay({ ...state, steps });
          if (state.group + 1 < plan.length) return startGroup(plan, state.group + 1, steps);
          return stay({ phase: 'succeeded', steps });
        }
      }
      return assertNever(event);

    case 'failing':
      switch (event.type) {
        case 'Began':
        case 'Recovered':
        case 'Reported':
          return stay(state);
        case 'StepOutput':
          if (!isRunning(state.steps, event.stepId)) return stay(state);
          return stay({ ...state, steps: replaceStep(state.steps, event.stepId, { output: event.output }) });
        // Already FAILED: a stop only ends the steps that still run sooner.
        case 'StopRequested':
          if (state.stopping) return stay(state);
          return { state: { ...state, stopping: true }, effects: [{ type: 'stopSteps', stepIds: runningIds(state.steps) }] };
        case 'StepEnded': {
          if (!isRunning(state.steps, event.stepId)) return stay(state);
          const steps = state.stopping
            ? stoppedStep(state.steps, event)
            : replaceStep(state.steps, event.stepId, { phase: event.outcome, failureMessage: event.failureMessage, output: event.output });
          if (steps.some((step) => step.phase === 'running')) return stay({ ...state, steps });
          return stay({ phase: 'failed', steps, failureMessage: state.failureMessage });
        }
      }
      return assertNever(event);

    case 'stopping':
      switch (event.type) {
        case 'Began':
        case 'StopRequested':
        case 'Recovered':
        case 'Reported':
          return stay(state);
        case 'StepOutput':
          if (!isRunning(state.steps, event.stepId)) return stay(state);
          return stay({ ...state, steps: replaceStep(state.steps, event.stepId, { output: event.output }) });
        case 'StepEnded': {
          if (!isRunning(state.steps, event.stepId)) return stay(state);
          const steps = stoppedStep(state.steps, event);
          return stay(steps.some((step) => step.phase === 'running') ? { phase: 'stopping', steps } : { phase: 'stopped', steps });
        }
      }
      return assertNever(event);

    case 'succeeded':
    case 'failed':
    case 'stopped':
      return stay(state);

    case 'recorded':
      switch (event.type) {
        // A runner's next report; a recorded execution that has finished never changes again.
        case 'Reported':
          return isFinishedStatus(state.status) ? stay(state) : stay({ phase: 'recorded', status: event.status });
        case 'Began':
        case 'StepEnded':
        case 'StepOutput':
        case 'StopRequested':
        case 'Recovered':
          return stay(state);
      }
      return assertNever(event);
  }
  return assertNever(state);
}

/**
 * A stored status after a restart: one that was still running ends FAILED, saying why; one that
 * had failed while other steps ran keeps its failure, and those steps end FAILED too.
 */
function recoveredStatus(status: ExecutionWireStatus): ExecutionWireStatus {
  if (isFinishedStatus(status)) return status;
  const failed = status.phase === 'TASK_EXECUTION_PHASE_FAILED' && (status.failureMessage ?? '') !== '';
  return {
    ...status,
    phase: 'TASK_EXECUTION_PHASE_FAILED',
    failureMessage: failed ? status.failureMessage! : DAEMON_STOPPED_MESSAGE,
    steps: status.steps.map((step) =>
      step.phase === 'TASK_EXECUTION_PHASE_RUNNING' ? { ...step, phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: DAEMON_STOPPED_MESSAGE } : step,
    ),
  };
}

export function isFinishedPhase(phase: TaskExecutionPhase): boolean {
  return phase === 'TASK_EXECUTION_PHASE_SUCCEEDED' || phase === 'TASK_EXECUTION_PHASE_FAILED' || phase === 'TASK_EXECUTION_PHASE_STOPPED';
}

/** A status of an execution that has ended: a finished phase and no step still running (FAILED may come first). */
export function isFinishedStatus(status: Pick<ExecutionWireStatus, 'phase' | 'steps'>): boolean {
  return isFinishedPhase(status.phase) && !status.steps.some((step) => step.phase === 'TASK_EXECUTION_PHASE_RUNNING');
}

function assertNever(value: never): never {
  throw new Error(`Unhandled execution state or event: ${JSON.stringify(value)}`);
}

export function isFinished(state: ExecutionState): boolean {
  if (state.phase === 'recorded') return isFinishedStatus(state.status);
  return state.phase === 'succeeded' || state.phase === 'failed' || state.phase === 'stopped';
}

/** The state a new execution begins in. */
export const NEW_EXECUTION: ExecutionState = { phase: 'pending' };
