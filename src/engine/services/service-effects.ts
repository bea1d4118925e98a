/**
 * How a service controller stops a session by the stop rules (an effect that takes time); it ends
 * with StopFinished for the lifecycle. (Probing is `ready-probing.ts`'s `probeSession`.)
 */
import type { Logger } from 'pino';
import type { ServiceEvent } from '../../domain/service-lifecycle.js';
import { faultPoint } from '../../runtime/fault.js';
import type { Session } from '../../runtime/runtime.js';
import type { EngineParts } from '../settings.js';
import type { ServiceDocument } from './service-keeper.js';

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
