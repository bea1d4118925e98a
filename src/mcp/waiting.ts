/**
 * Waiting inside a tool call: read from the daemon until a condition holds, the call's time is
 * up, the client cancels the call, or the MCP session ends. Given the daemon's client, a wait
 * reads again on each of its events (`daemon-wakeups.ts`), else (or when nothing happens) at its
 * interval. A wait never fails by running out of time: it says so, and the agent asks again.
 */
import type { ApiClient } from '../client/api-client.js';
import { daemonWakeups } from './daemon-wakeups.js';
import { pause } from './pause.js';

/** Clients give up on a tool call after about 60 s: a wait ends before that by default. */
export const DEFAULT_WAIT_SECONDS = 50;
export const MAX_WAIT_SECONDS = 600;
/** How often a wait asks the daemon again without an event (what it waits for may change without one). */
export const WAIT_POLL_MS = 100;
/** The same, for a wait woken by the daemon's events: a read a second at most while nothing happens. */
export const WAIT_FALLBACK_MS = 1000;
/** How often a wait reports progress to a client that asked for it. */
const PROGRESS_EVERY_MS = 1000;

export interface Progress {
  /** Sends `notifications/progress` when the request carried a progress token. */
  report(message: string): void;
}

export type Waited<T> = { readonly done: true; readonly value: T; readonly waitedMs: number } | { readonly done: false; readonly last: T; readonly waitedMs: number };

/**
 * Calls `read` until `settled(value)` or `timeoutMs` passes or `signal` aborts; the last value
 * read is the answer either way. With `events`, it reads again when the daemon says something
 * changed (and at least every `WAIT_FALLBACK_MS`), else every `pollMs`.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  settled: (value: T) => boolean,
  options: {
    timeoutMs: number;
    signal: AbortSignal;
    progress?: Progress | undefined;
    describe?: (value: T) => string;
    pollMs?: number;
    events?: Pick<ApiClient, 'watchEvents'>;
  },
): Promise<Waited<T>> {
  const started = Date.now();
  let reported = started;
  const wakeups = options.events === undefined ? null : await daemonWakeups(options.events, options.signal);
  try {
    for (;;) {
      const value = await read();
      const waitedMs = Date.now() - started;
      if (settled(value)) return { done: true, value, waitedMs };
      if (waitedMs >= options.timeoutMs || options.signal.aborted) return { done: false, last: value, waitedMs };
      if (options.progress !== undefined && options.describe !== undefined && Date.now() - reported >= PROGRESS_EVERY_MS) {
        reported = Date.now();
        options.progress.report(options.describe(value));
      }
      const left = Math.max(0, options.timeoutMs - waitedMs);
      if (wakeups === null) await pause(Math.min(options.pollMs ?? WAIT_POLL_MS, left), options.signal);
      else await wakeups.next(Math.min(WAIT_FALLBACK_MS, left), options.signal);
    }
  } finally {
    wakeups?.close();
  }
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
