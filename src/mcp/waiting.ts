/**
 * Waiting inside a tool call: poll the daemon until a condition holds, the call's time is up,
 * the client cancels the call, or the MCP session ends. A wait never fails by running out of
 * time: it says so, and the agent asks again.
 */

/** Clients give up on a tool call after about 60 s: a wait ends before that by default. */
export const DEFAULT_WAIT_SECONDS = 50;
export const MAX_WAIT_SECONDS = 600;
/** How often a wait asks the daemon again (the CLI's `--wait` polls as often). */
export const WAIT_POLL_MS = 100;
/** How often a wait reports progress to a client that asked for it. */
const PROGRESS_EVERY_MS = 1000;

export interface Progress {
  /** Sends `notifications/progress` when the request carried a progress token. */
  report(message: string): void;
}

export type Waited<T> = { readonly done: true; readonly value: T; readonly waitedMs: number } | { readonly done: false; readonly last: T; readonly waitedMs: number };

/** Resolves after `ms`, or at once when `signal` aborts; the timer never outlives it. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

/**
 * Calls `read` until `settled(value)` or `timeoutMs` passes or `signal` aborts; the last value
 * read is the answer either way.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  options: { timeoutMs: number; signal: AbortSignal; progress?: Progress | undefined; describe?: (value: T) => string; pollMs?: number },
): Promise<Waited<T>> {
  const started = Date.now();
  let reported = started;
  for (;;) {
    const value = await read();
    const waitedMs = Date.now() - started;
    if (settled(value)) return { done: true, value, waitedMs };
    if (waitedMs >= options.timeoutMs || options.signal.aborted) return { done: false, last: value, waitedMs };
    if (options.progress !== undefined && options.describe !== undefined && Date.now() - reported >= PROGRESS_EVERY_MS) {
      reported = Date.now();
      options.progress.report(options.describe(value));
    }
    await pause(Math.min(options.pollMs ?? WAIT_POLL_MS, Math.max(0, options.timeoutMs - waitedMs)), options.signal);
  }
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
