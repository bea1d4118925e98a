/**
 * The service lifecycle as one pure function: `transitionService(state, event) → {state, effects}`.
 * Nothing else decides a service's phase. Every state × event pair is handled on purpose; a pair
 * that cannot change anything returns the state unchanged with no effects (a stale event, such as
 * a probe result that arrives after a stop was requested).
 */
import type { ServicePhase } from './schema.js';

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
}

export type ServiceState =
  | { readonly phase: 'stopped'; readonly session: string | null }
  | { readonly phase: 'failed'; readonly session: string | null; readonly failureMessage: string }
  | { readonly phase: 'starting'; readonly session: string; readonly proc: ProcessIdentity }
  | { readonly phase: 'running'; readonly session: string; readonly proc: ProcessIdentity }
  | {
      readonly phase: 'stopping';
      readonly session: string;
      readonly proc: ProcessIdentity;
      /** Already escalated to SIGKILL (force delete); a second force changes nothing. */
      readonly forced: boolean;
      /** Set when the stop was tend's own decision (readiness timeout): the stop ends FAILED. */
      readonly failWith: string | null;
    };

export type ServiceEvent =
  | {
      readonly type: 'Spawned';
      readonly session: string;
      readonly proc: ProcessIdentity;
      readonly awaitsReady: boolean;
    }
  | { readonly type: 'SpawnFailed'; readonly session: string; readonly message: string }
  | { readonly type: 'ReadyProbePassed' }
  | { readonly type: 'ReadinessTimedOut'; readonly message: string }
  | { readonly type: 'ProcessExited'; readonly exit: ExitInfo; readonly failureMessage: string }
  | { readonly type: 'StopRequested'; readonly force: boolean }
  | { readonly type: 'StopFinished'; readonly failureMessage: string | null };

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
        case 'failed':
          return event.awaitsReady
            ? {
                state: { phase: 'starting', session: event.session, proc: event.proc },
                effects: [{ type: 'startProbing' }],
              }
            : { state: { phase: 'running', session: event.session, proc: event.proc }, effects: [] };
        case 'starting':
        case 'running':
        case 'stopping':
          return { state, effects: [{ type: 'killStray', proc: event.proc }] };
      }
      return assertNever(state);

    case 'SpawnFailed':
      switch (state.phase) {
        case 'stopped':
        case 'failed':
          return stay({ phase: 'failed', session: event.session, failureMessage: event.message });
        case 'starting':
        case 'running':
        case 'stopping':
          return stay(state);
      }
      return assertNever(state);

    case 'ReadyProbePassed':
      switch (state.phase) {
        case 'starting':
          return stay({ phase: 'running', session: state.session, proc: state.proc });
        case 'running':
        case 'stopping':
        case 'stopped':
        case 'failed':
          return stay(state);
      }
      return assertNever(state);

    case 'ReadinessTimedOut':
      switch (state.phase) {
        case 'starting':
          return {
            state: {
              phase: 'stopping',
              session: state.session,
              proc: state.proc,
              forced: false,
              failWith: event.message,
            },
            effects: [{ type: 'stopProbing' }, { type: 'stopProcesses', force: false }],
          };
        case 'running':
        case 'stopping':
        case 'stopped':
        case 'failed':
          return stay(state);
      }
      return assertNever(state);

    case 'ProcessExited':
      switch (state.phase) {
        case 'starting':
        case 'running': {
          const clean = event.exit.code === 0 && event.exit.signal === null;
          return {
            state: clean
              ? { phase: 'stopped', session: state.session }
              : { phase: 'failed', session: state.session, failureMessage: event.failureMessage },
            effects: [{ type: 'stopProbing' }, { type: 'killLeftovers' }],
          };
        }
        // The stop rules are under way and decide the outcome; an exit is what they wait for.
        case 'stopping':
        case 'stopped':
        case 'failed':
          return stay(state);
      }
      return assertNever(state);

    case 'StopRequested':
      switch (state.phase) {
        case 'starting':
        case 'running':
          return {
            state: {
              phase: 'stopping',
              session: state.session,
              proc: state.proc,
              forced: event.force,
              failWith: null,
            },
            effects: [{ type: 'stopProbing' }, { type: 'stopProcesses', force: event.force }],
          };
        case 'stopping':
          return event.force && !state.forced
            ? { state: { ...state, forced: true }, effects: [{ type: 'killLeftovers' }] }
            : stay(state);
        case 'stopped':
        case 'failed':
          return stay(state);
      }
      return assertNever(state);

    case 'StopFinished':
      switch (state.phase) {
        case 'stopping': {
          const failure = event.failureMessage ?? state.failWith;
          return stay(
            failure === null
              ? { phase: 'stopped', session: state.session }
              : { phase: 'failed', session: state.session, failureMessage: failure },
          );
        }
        case 'starting':
        case 'running':
        case 'stopped':
        case 'failed':
          return stay(state);
      }
      return assertNever(state);
  }
  return assertNever(event);
}

function assertNever(value: never): never {
  throw new Error(`Unhandled service state or event: ${JSON.stringify(value)}`);
}

export function isActive(state: ServiceState): state is Extract<ServiceState, { proc: ProcessIdentity }> {
  return state.phase === 'starting' || state.phase === 'running' || state.phase === 'stopping';
}

export function wirePhase(state: ServiceState): ServicePhase {
  switch (state.phase) {
    case 'stopped':
      return 'SERVICE_PHASE_STOPPED';
    case 'failed':
      return 'SERVICE_PHASE_FAILED';
    case 'starting':
      return 'SERVICE_PHASE_STARTING';
    case 'running':
      return 'SERVICE_PHASE_RUNNING';
    case 'stopping':
      return 'SERVICE_PHASE_STOPPING';
  }
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
  return tail === '' ? `${what} ${how}` : `${what} ${how}; last output:\n${tail}`;
}
