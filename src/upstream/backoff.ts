/** Retry pacing toward a control plane: exponential, capped, with jitter so runners spread out. */
export interface BackoffSettings {
  /** The first pause after a failure. */
  readonly initialMs: number;
  /** No pause is longer. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { initialMs: 250, maxMs: 30_000 };

/** The pause before attempt `failures + 1`: between half and all of min(max, initial × 2^failures). */
export function backoffDelay(settings: BackoffSettings, failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(failures, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
