/**
 * A service's state as the API shows it: the one projection of `ServiceState` onto the wire
 * status (the version is the writer's: it is stamped when the status is written). A serve-only
 * daemon's reported status is merged here too.
 */
import { maskSecrets } from './mask.js';
import type { ServicePhase, ServiceStatus } from './schema.js';
import type { ServiceState } from './service-lifecycle.js';

export type WireStatus = Omit<ServiceStatus, 'statusVersion'>;

export interface StatusView {
  /** Where the log of a run is served; undefined while it has none (the run failed before it began). */
  readonly logUrl: (runId: string) => string | undefined;
  /** The run's GITPOD_OUTPUT, already masked; {} when it has none. */
  readonly output: Readonly<Record<string, string>>;
  /** Masks the run's secret values (the last output lines of a failure may echo one). */
  readonly mask: (text: string) => string;
}

function phaseOf(state: Exclude<ServiceState, { phase: 'reported' }>): ServicePhase {
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
    case 'deleted':
      return 'SERVICE_PHASE_DELETED';
  }
}

export function serviceStatus(state: ServiceState, view: StatusView): WireStatus {
  if (state.phase === 'reported') return state.status;
  const failure = state.phase === 'failed' ? state.failureMessage : state.phase === 'stopping' ? (state.failWith ?? undefined) : undefined;
  const logUrl = state.session !== null && state.runId !== null ? view.logUrl(state.runId) : undefined;
  return {
    phase: phaseOf(state),
    ...(state.session !== null ? { session: state.session } : {}),
    ...(logUrl !== undefined ? { logUrl } : {}),
    ...(failure !== undefined ? { failureMessage: view.mask(failure) } : {}),
    ...(Object.keys(view.output).length > 0 ? { output: { ...view.output } } : {}),
  };
}

/** The wire phase of a state (a reported one says what its runner said). */
export function servicePhase(state: ServiceState): ServicePhase {
  return state.phase === 'reported' ? (state.status.phase ?? 'SERVICE_PHASE_UNSPECIFIED') : phaseOf(state);
}

/** Starting, running or stopping: a process may be alive. */
export function isActivePhase(phase: ServicePhase | undefined): boolean {
  return phase === 'SERVICE_PHASE_STARTING' || phase === 'SERVICE_PHASE_RUNNING' || phase === 'SERVICE_PHASE_STOPPING';
}

export function sameStatus(a: WireStatus, b: WireStatus): boolean {
  return (
    a.phase === b.phase &&
    a.session === b.session &&
    a.failureMessage === b.failureMessage &&
    a.logUrl === b.logUrl &&
    JSON.stringify(a.output ?? {}) === JSON.stringify(b.output ?? {})
  );
}

/**
 * Serve-only: a runner's report applied to what is known. An absent field keeps its value; a new
 * session starts with no output; an output value "" unsets its key.
 */
export function mergeServiceReport(current: WireStatus, report: WireStatus): WireStatus {
  const session = report.session ?? current.session;
  const output: Record<string, string> = { ...(session === current.session ? current.output : {}) };
  for (const [key, value] of Object.entries(report.output ?? {})) {
    if (value === '') delete output[key];
    else output[key] = value;
  }
  const failureMessage = report.failureMessage ?? current.failureMessage;
  const logUrl = report.logUrl ?? current.logUrl;
  return {
    phase: report.phase ?? current.phase ?? 'SERVICE_PHASE_STOPPED',
    ...(session !== undefined && session !== '' ? { session } : {}),
    ...(logUrl !== undefined && logUrl !== '' ? { logUrl } : {}),
    ...(failureMessage !== undefined && failureMessage !== '' ? { failureMessage } : {}),
    ...(Object.keys(output).length > 0 ? { output } : {}),
  };
}

/** Masks every value of an output with the run's secrets. */
export function maskedOutput(output: Readonly<Record<string, string>>, secrets: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(output).map(([key, value]) => [key, maskSecrets(value, secrets)]));
}
