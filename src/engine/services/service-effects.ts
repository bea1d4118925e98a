/**
 * How a service controller carries out the two effects that take time: probing until ready, and
 * stopping a session by the stop rules. Each ends with an event for the lifecycle.
 */
import type { Logger } from '../../domain/logger.js';
import type { ServiceEvent } from '../../domain/service-lifecycle.js';
import { faultPoint } from '../../runtime/fault.js';
import type { Session } from '../../runtime/runtime.js';
import type { EngineParts } from '../settings.js';
import type { SessionSecrets } from '../secrets.js';
import { probeSession, type ReadyProbing } from './ready-probing.js';
import type { ServiceDocument } from './service-keeper.js';

/** How much of a probe's changed output goes to the daemon log. */
const LOGGED_PROBE_OUTPUT = 1000;

/** Probes until ready; the readiness timeout (the spec's, else the daemon's) ends it with ReadinessTimedOut. */
export function probeUntilReady(
  parts: EngineParts,
  log: Logger,
  document: ServiceDocument,
  session: Session,
  secrets: SessionSecrets,
  deliver: (event: ServiceEvent) => void,
): ReadyProbing {
  log.info({ readyCommand: document.spec.commands?.ready }, 'Waiting for the ready command');
  return probeSession(document.spec, session, parts, {
    onReady: () => deliver({ type: 'ReadyProbePassed' }),
    onTimeout: (message) => deliver({ type: 'ReadinessTimedOut', message }),
    onOutcomeChanged: (outcome) => log.info({ exitCode: outcome.exitCode, output: secrets.mask(outcome.output).slice(-LOGGED_PROBE_OUTPUT) }, 'Ready probe result changed'),
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
