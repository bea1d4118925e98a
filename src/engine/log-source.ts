/** What the log endpoint needs to stream a log: where it is, whether it still grows, what to mask. */
export interface FileLogSource {
  readonly kind: 'file';
  readonly path: string;
  readonly isLive: () => boolean;
  readonly secrets: () => readonly string[];
}

export interface ExecutionStepLog {
  readonly id: string;
  readonly title: string;
  readonly path: string;
  /** A task's step writes `path` (made as its command starts); a service's step writes nothing. */
  readonly writesOutput: boolean;
  /** undefined: not started yet; `ended` false while it runs. */
  readonly progress: () => { ended: false } | { ended: true; outcome: string; secondsElapsed: number } | undefined;
}

export interface ExecutionLogSource {
  readonly kind: 'execution';
  readonly steps: readonly ExecutionStepLog[];
  readonly isFinished: () => boolean;
  readonly secrets: () => readonly string[];
}

export type LogSource = FileLogSource | ExecutionLogSource;
