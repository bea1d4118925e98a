/**
 * A service step: starts the service if it does not run, and ends when the session it asked for
 * is RUNNING (succeeded, with the service's output), or FAILED, STOPPED or deleted first. The
 * session it waits for is the one the service is wanted in: when that changes (a spec change
 * restarts the service in a new session while the step waits), the step follows it; when the
 * service is no longer wanted running, the step fails. It always ends.
 */
import type { Service, TaskExecutionStep } from '../../domain/schema.js';
import type { ServiceEngine } from '../services/service-engine.js';
import type { StepEvents, StepHandle } from './step.js';

export function startServiceStep(services: ServiceEngine, step: TaskExecutionStep, serviceId: string, events: StepEvents): StepHandle {
  let ended = false;
  // Which session to wait for is known once start() returned; start() itself emits changes (the
  // spec, then the spawn) that must not be judged against a session not chosen yet.
  let session: string | undefined;
  const end = (outcome: 'succeeded' | 'failed', failureMessage: string | null, output: Record<string, string> = {}): void => {
    if (ended) return;
    ended = true;
    services.off('change', listener);
    events.ended({ outcome, failureMessage, output });
  };
  const settle = (service: Service): void => {
    const { phase, failureMessage } = service.status;
    if (phase === 'SERVICE_PHASE_DELETED') return end('failed', `Service "${step.label}" was deleted before it was ready`);
    const desired = service.spec.desiredPhase;
    if (desired === 'SERVICE_PHASE_STOPPED' || desired === 'SERVICE_PHASE_DELETED') {
      // Stopped on the way to a restart (its spec changed) is still wanted running: wait.
      if (!services.restarting(service.id)) return end('failed', `Service "${step.label}" was stopped before it was ready`);
      return;
    }
    if (service.spec.session !== undefined) session = service.spec.session;
    if (service.status.session !== session) return;
    if (phase === 'SERVICE_PHASE_RUNNING') end('succeeded', null, { ...service.status.output });
    else if (phase === 'SERVICE_PHASE_FAILED') end('failed', `Service "${step.label}" failed: ${failureMessage ?? 'no reason given'}`);
    else if (phase === 'SERVICE_PHASE_STOPPED') end('failed', `Service "${step.label}" stopped before it was ready`);
  };
  const listener = (_kind: string, service: Service): void => {
    if (session !== undefined && service.id === serviceId) settle(service);
  };
  services.on('change', listener);
  try {
    services.start(serviceId);
    const service = services.get(serviceId);
    session = service.spec.session;
    settle(service);
  } catch (error) {
    end('failed', `Cannot start service "${step.label}": ${(error as Error).message}`);
  }
  // A stopped service step just stops waiting; the service itself is left as it is.
  return { stop: () => end('failed', null) };
}
