/**
 * How a service controller carries out the two effects that take time: probing until ready, and
 * stopping a session by the stop rules. Each ends with an event for the lifecycle.
 */
import type { Logger } from 'pino';
import type { ServiceEvent } from '../../domain/service-lifecycle.js';
import { readinessTimeoutMs } from '../../domain/spec-rules.js';
import { faultPoint } from '../../runtime/fault.js';
import type { Session } from '../../runtime/runtime.js';
import type { EngineParts } from '../settings.js';
import { ReadyProbing } from './ready-probing.js';
import type { ServiceDocument } from './service-keeper.js';

/** Probes until ready; the readiness timeout (the spec's, else the daemon's) ends it with ReadinessTimedOut. */
export function probeUntilReady(parts: EngineParts, document: ServiceDocument, session: Session, deliver: (event: ServiceEvent) => void): ReadyProbing {
  const { clock, settings } = parts;
  const command = document.spec.commands?.ready ?? '';
  return new ReadyProbing({
    command,
    run: () => session.probe(command),
    timings: settings.probe,
    clock,
    readinessTimeoutMs: readinessTimeoutMs(document.spec.readinessTimeout, settings.readinessTimeoutMs),
    onReady: () => deliver({ type: 'ReadyProbePassed' }),
    onTimeout: (message) => deliver({ type: 'ReadinessTimedOut', message }),
  });
}

/** The stop rules, with the spec's stop command unless forced; ends with StopFinished. */
export function stopSession(
  parts: EngineParts,
  log: Logger,
  document: ServiceDocument,
  session: Session,
  force: boolean,
  deliver: (event: ServiceEvent) => void,
): void {
  const stop = document.spec.commands?.stop ?? '';
  const done = session.stop({ stopCommand: stop.trim() === '' || force ? null : stop, timeoutMs: parts.settings.stopTimeoutMs, force });
  // After the signals went out (the scan is shared on the next tick), before the stop ends.
  setTimeout(() => faultPoint('mid-stop'), 20);
  done.then(
    (failureMessage) => deliver({ type: 'StopFinished', failureMessage }),
    (error: unknown) => {
      log.error({ err: error }, 'Stopping the service failed');
      deliver({ type: 'StopFinished', failureMessage: `Cannot stop: ${String(error)}` });
    },
  );
}
