/** One step of a running execution, as its runner sees it (one file per kind of step). */
import type { SessionRecord } from '../../domain/session-record.js';
import type { SessionSecrets } from '../secrets.js';

export interface StepOutcome {
  readonly outcome: 'succeeded' | 'failed';
  readonly failureMessage: string | null;
  readonly output: Readonly<Record<string, string>>;
}

/** What a step tells its runner. */
export interface StepEvents {
  /** The step is over; nothing of it runs any more. Called once. */
  ended(outcome: StepOutcome): void;
  /** Its command started: the record is stored with the execution, for crash recovery. */
  started(record: SessionRecord): void;
  /** The secrets its command resolved, to mask its log and messages. */
  resolved(secrets: SessionSecrets): void;
}

export interface StepHandle {
  /** Ends the step (its command by the task stop rules); `ended` follows. */
  stop(): void;
}
