/**
 * A task execution's state as the API shows it: the one projection of `ExecutionState` onto the
 * wire status (the version is stamped by the writer).
 */
import type { TaskExecutionPhase } from './schema.js';
import type { ExecutionState, ExecutionWireStatus, StepPhase } from './execution-lifecycle.js';

/** `logUrl` is there once a step has started: before that there is nothing to read. */
export function executionStatus(state: ExecutionState, logUrl: string): ExecutionWireStatus {
  if (state.phase === 'recorded') return state.status;
  const steps = 'steps' in state ? state.steps : [];
  return {
    phase: executionPhase(state),
    ...(state.phase === 'failed' || state.phase === 'failing' ? { failureMessage: state.failureMessage } : {}),
    ...(steps.length > 0 ? { logUrl } : {}),
    steps: steps.map((step) => ({
      id: step.id,
      phase: stepPhase(step.phase),
      ...(step.failureMessage !== null ? { failureMessage: step.failureMessage } : {}),
      ...(Object.keys(step.output).length > 0 ? { output: { ...step.output } } : {}),
    })),
  };
}

function executionPhase(state: Exclude<ExecutionState, { phase: 'recorded' }>): TaskExecutionPhase {
  switch (state.phase) {
    case 'pending':
      return 'TASK_EXECUTION_PHASE_PENDING';
    // Still running on the wire: the steps are being stopped.
    case 'stopping':
      return 'TASK_EXECUTION_PHASE_RUNNING';
    // FAILED as soon as a step failed, while the rest of its group finishes.
    case 'failing':
      return 'TASK_EXECUTION_PHASE_FAILED';
    case 'running':
    case 'succeeded':
    case 'failed':
    case 'stopped':
      return stepPhase(state.phase);
  }
}

function stepPhase(phase: StepPhase): TaskExecutionPhase {
  switch (phase) {
    case 'running':
      return 'TASK_EXECUTION_PHASE_RUNNING';
    case 'succeeded':
      return 'TASK_EXECUTION_PHASE_SUCCEEDED';
    case 'failed':
      return 'TASK_EXECUTION_PHASE_FAILED';
    case 'stopped':
      return 'TASK_EXECUTION_PHASE_STOPPED';
  }
}

/** The outcome a log section names for a step that ended in `phase`. */
export function stepOutcome(phase: TaskExecutionPhase): string {
  switch (phase) {
    case 'TASK_EXECUTION_PHASE_SUCCEEDED':
      return 'success';
    case 'TASK_EXECUTION_PHASE_STOPPED':
      return 'stopped';
    default:
      return 'failure';
  }
}
