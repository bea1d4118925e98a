import type { ProcessIdentity } from './service-lifecycle.js';

/**
 * What a restarted daemon needs to find a session again (see `runtime/runtime.ts`): stored with
 * the status in the transaction that reports it STARTING or RUNNING.
 */
export interface SessionRecord {
  /** The id tend made for the run: the marker of its processes. */
  readonly runId: string;
  readonly identity: ProcessIdentity;
  readonly logPath: string;
  /** Set when the session runs in a container (the runtime's own detail). */
  readonly container?: string;
}

/** A service's last run: its id (its log, its outputs) and, while it may be alive, its session. */
export interface ServiceRunRecord {
  readonly runId: string;
  readonly session: SessionRecord | null;
}
