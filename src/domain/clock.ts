/**
 * The one seam for time. Every timing of SPEC.md (probe back-off, readiness timeout, stop
 * timeout, watch debounce, reporter back-off) is scheduled through a Clock, so that the policy
 * can be driven by a manual clock in tests without sleeping.
 */
export interface TimerHandle {
  readonly id: unknown;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/**
 * Node's own timers. They keep the process alive on purpose: a daemon that is stopping waits on
 * them (a stop timeout's SIGKILL must still happen once the server is closed).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => ({ id: setTimeout(callback, ms) }),
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle.id as NodeJS.Timeout);
  },
};

/** Resolves after `ms` on the clock, or at once when `signal` aborts (then with false). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve(false);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`'s value, or 'timeout' when `ms` passes first on the clock. */
export async function within<T>(clock: Clock, promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}
