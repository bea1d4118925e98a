/**
 * The service lifecycle as one pure function: `transitionService(state, event) → {state, effects}`.
 * Nothing else decides a service's phase: the live path (spawn, probes, exit, stop), recovery
 * after a daemon restart, deletion, and a serve-only daemon's reported statuses all arrive here
 * as events. Every state × event pair is handled on purpose; a pair that cannot change anything
 * returns the state unchanged with no effects (a stale event, such as a probe result that arrives
 * after a stop was requested). `domain/service-status.ts` projects a state onto the wire.
 */
import type { ServicePhase, ServiceStatus } from './schema.js';

/** What identifies a spawned process group beyond doubt (see ARCHITECTURE.md, identity records). */
export interface ProcessIdentity {
  readonly pid: number;
  readonly pgid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot; with bootId it tells pid reuse apart. */
  readonly startTime: string;
  readonly bootId: string;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** Why the exit is only partly known (a re-adopted process is not our child). */
  readonly note?: string;
}

/**
 * `session` is the client's `spec.session` (shown as `status.session`); `runId` is the id tend
 * made for that run: its log, its outputs file and the marker of its processes.
 */
export type ServiceState =
  | { readonly phase: 'stopped'; readonly session: string | null; readonly runId: string | null }
  | { readonly phase: 'failed'; readonly session: string | null; readonly runId: string | null; readonly failureMessage: string }
  | { readonly phase: 'starting'; readonly session: string; readonly runId: string; readonly proc: ProcessIdentity }
  | { readonly phase: 'running'; readonly session: string; readonly runId: string; readonly proc: ProcessIdentity }
  | {
      readonly phase: 'stopping';
      readonly session: string;
      readonly runId: string;
      readonly proc: ProcessIdentity;
      /** Already escalated to SIGKILL (force delete); a second force changes nothing. */
      readonly forced: boolean;
      /** Set when the stop was tend's own decision (readiness timeout): the stop ends FAILED. */
      readonly failWith: string | null;
    }
  /** Gone from the store; the last status anyone sees. */
  | { readonly phase: 'deleted'; readonly session: string | null; readonly runId: string | null }
  /** Serve-only: the status as the runner reported it (it runs the service, this daemon does not). */
  | { readonly phase: 'reported'; readonly status: Omit<ServiceStatus, 'statusVersion'> };

/** What a stored status says, as recovery finds it after a daemon restart. */
export interface StoredRun {
  readonly phase: ServicePhase;
  readonly session: string | null;
  readonly runId: string | null;
  readonly failureMessage: string | null;
}

export type ServiceEvent =
  | {
      readonly type: 'Spawned';
      readonly session: string;
      readonly runId: string;
      readonly proc: ProcessIdentity;
      readonly awaitsReady: boolean;
    }
  | { readonly type: 'SpawnFailed'; readonly session: string; readonly runId: string; readonly message: string }
  | { readonly type: 'ReadyProbePassed' }
  | { readonly type: 'ReadinessTimedOut'; readonly message: string }
  | { readonly type: 'ProcessExited'; readonly exit: ExitInfo; readonly failureMessage: string }
  | { readonly type: 'StopRequested'; readonly force: boolean }
  | { readonly type: 'StopFinished'; readonly failureMessage: string | null }
  /**
   * A daemon started and found this service's stored status: `adopted` is the recorded process
   * when it is still alive with exactly its identity; otherwise `lostBecause` says why not.
   */
  | { readonly type: 'Recovered'; readonly stored: StoredRun; readonly adopted: ProcessIdentity | null; readonly lostBecause: string }
  | { readonly type: 'Removed' }
  /** Serve-only: a runner's report, already merged with what was known (`mergeServiceReport`). */
  | { readonly type: 'Reported'; readonly status: Omit<ServiceStatus, 'statusVersion'> };

export type ServiceEffect =
  | { readonly type: 'startProbing' }
  | { readonly type: 'stopProbing' }
  /** Run the stop rules (stop command or SIGTERM, SIGKILL after the timeout); answer StopFinished. */
  | { readonly type: 'stopProcesses'; readonly force: boolean }
  /** SIGKILL whatever is left of the session's processes (after the start command exited). */
  | { readonly type: 'killLeftovers' }
  /** A spawn that raced with another: its processes are not the service's and must go. */
  | { readonly type: 'killStray'; readonly proc: ProcessIdentity };

export interface Transition {
  readonly state: ServiceState;
  readonly effects: readonly ServiceEffect[];
}

const stay = (state: ServiceState): Transition => ({ state, effects: [] });

export function transitionService(state: ServiceState, event: ServiceEvent): Transition {
  switch (event.type) {
    case 'Spawned':
      switch (state.phase) {
        case 'stopped':
        case 'failed': {
          const run = { session: event.session, runId: event.runId, proc: event.proc };
          return event.awaitsReady
            ? { state: { phase: 'starting', ...run }, effects: [{ type: 'startProbing' }] }
            : { state: { phase: 'running', ...run }, effects: [] };
        }
        case 'starting':
        case 'running':
        case 'stopping':
        case 'deleted':
        case 'reported':
          return { state, effects: [{ type: 'killStray', proc: event.proc }] };
      }
      return assertNever(state);

    case 'SpawnFailed':
      switch (state.phase) {
        case 'stopped':
        case 'failed':
          return stay({ phase: 'failed', session: event.session, runId: event.runId, failureMessage: event.message });
        case 'starting':
        case 'running':
        case 'stopping':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'ReadyProbePassed':
      switch (state.phase) {
        case 'starting':
          return stay({ phase: 'running', session: state.session, runId: state.runId, proc: state.proc });
        case 'running':
        case 'stopping':
        case 'stopped':
        case 'failed':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'ReadinessTimedOut':
      switch (state.phase) {
        case 'starting':
          return {
            state: { phase: 'stopping', session: state.session, runId: state.runId, proc: state.proc, forced: false, failWith: event.message },
            effects: [{ type: 'stopProbing' }, { type: 'stopProcesses', force: false }],
          };
        case 'running':
        case 'stopping':
        case 'stopped':
        case 'failed':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'ProcessExited':
      switch (state.phase) {
        case 'starting':
        case 'running': {
          const clean = event.exit.code === 0 && event.exit.signal === null;
          const run = { session: state.session, runId: state.runId };
          return {
            state: clean ? { phase: 'stopped', ...run } : { phase: 'failed', ...run, failureMessage: event.failureMessage },
            effects: [{ type: 'stopProbing' }, { type: 'killLeftovers' }],
          };
        }
        // The stop rules are under way and decide the outcome; an exit is what they wait for.
        case 'stopping':
        case 'stopped':
        case 'failed':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'StopRequested':
      switch (state.phase) {
        case 'starting':
        case 'running':
          return {
            state: { phase: 'stopping', session: state.session, runId: state.runId, proc: state.proc, forced: event.force, failWith: null },
            effects: [{ type: 'stopProbing' }, { type: 'stopProcesses', force: event.force }],
          };
        case 'stopping':
          return event.force && !state.forced ? { state: { ...state, forced: true }, effects: [{ type: 'killLeftovers' }] } : stay(state);
        case 'stopped':
        case 'failed':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'StopFinished':
      switch (state.phase) {
        case 'stopping': {
          const failure = event.failureMessage ?? state.failWith;
          const run = { session: state.session, runId: state.runId };
          return stay(failure === null ? { phase: 'stopped', ...run } : { phase: 'failed', ...run, failureMessage: failure });
        }
        case 'starting':
        case 'running':
        case 'stopped':
        case 'failed':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'Recovered':
      switch (state.phase) {
        case 'stopped':
          return recover(event);
        case 'failed':
        case 'starting':
        case 'running':
        case 'stopping':
        case 'deleted':
        case 'reported':
          return stay(state);
      }
      return assertNever(state);

    case 'Removed':
      switch (state.phase) {
        case 'stopped':
        case 'failed':
          return stay({ phase: 'deleted', session: state.session, runId: state.runId });
        case 'reported':
          return stay({ phase: 'deleted', session: state.status.session ?? null, runId: null });
        // Only what has stopped can go; a deletion stops the service first.
        case 'starting':
        case 'running':
        case 'stopping':
        case 'deleted':
          return stay(state);
      }
      return assertNever(state);

    case 'Reported':
      switch (state.phase) {
        case 'stopped':
        case 'failed':
        case 'reported':
          return stay({ phase: 'reported', status: event.status });
        // A daemon that runs the service itself knows its status first-hand.
        case 'starting':
        case 'running':
        case 'stopping':
        case 'deleted':
          return stay(state);
      }
      return assertNever(state);
  }
  return assertNever(event);
}

/** What a daemon makes of a stored status at start-up. */
function recover(event: Extract<ServiceEvent, { type: 'Recovered' }>): Transition {
  const { stored, adopted } = event;
  const run = { session: stored.session, runId: stored.runId };
  switch (stored.phase) {
    case 'SERVICE_PHASE_STARTING':
    case 'SERVICE_PHASE_RUNNING':
    case 'SERVICE_PHASE_STOPPING': {
      if (adopted !== null && stored.session !== null && stored.runId !== null) {
        const live = { session: stored.session, runId: stored.runId, proc: adopted };
        // A STOPPING one runs on: what is wanted (stopped) stops it again.
        return stored.phase === 'SERVICE_PHASE_STARTING'
          ? { state: { phase: 'starting', ...live }, effects: [{ type: 'startProbing' }] }
          : stay({ phase: 'running', ...live });
      }
      const phase = stored.phase.replace('SERVICE_PHASE_', '');
      return stay({ phase: 'failed', ...run, failureMessage: `The tend daemon stopped unexpectedly while the service was ${phase}; ${event.lostBecause}` });
    }
    case 'SERVICE_PHASE_FAILED':
      return stay({ phase: 'failed', ...run, failureMessage: stored.failureMessage ?? '' });
    case 'SERVICE_PHASE_UNSPECIFIED':
    case 'SERVICE_PHASE_STOPPED':
    case 'SERVICE_PHASE_DELETED':
      return stay({ phase: 'stopped', ...run });
  }
  return assertNever(stored.phase);
}

function assertNever(value: never): never {
  throw new Error(`Unhandled service state or event: ${JSON.stringify(value)}`);
}

/** The state a new service begins in. */
export const NEW_SERVICE: ServiceState = { phase: 'stopped', session: null, runId: null };

export function isActive(state: ServiceState): state is Extract<ServiceState, { proc: ProcessIdentity }> {
  return state.phase === 'starting' || state.phase === 'running' || state.phase === 'stopping';
}

/** `Command "npm run dev" exited with code 1`, with the last output lines after a colon. */
export function describeExit(what: string, exit: ExitInfo, outputTail: string): string {
  const how =
    exit.signal !== null
      ? `was killed by signal ${exit.signal}`
      : exit.code === null
        ? 'exited with an unknown exit code'
        : `exited with code ${exit.code}`;
  const tail = outputTail.trimEnd();
  const subject = exit.note === undefined ? what : `${what} (${exit.note})`;
  return tail === '' ? `${subject} ${how}` : `${subject} ${how}; last output:\n${tail}`;
}
