/**
 * What wakes a wait inside a tool call: any event of the daemon's stream (`WatchEvents`: a
 * service's, a task's or an execution's change), so a wait reads again when something changed
 * rather than on a timer. The stream is opened before the wait's first read (nothing that
 * changes meanwhile is missed) and closed when the wait ends. If it cannot be opened or it ends
 * (the daemon stops), a wait still wakes at its fallback interval.
 */
import type { ApiClient } from '../client/api-client.js';
import { pause } from './pause.js';

export interface Wakeups {
  /** Resolves on the next event since the last call (at once if one came meanwhile), after `ms` at the latest, or when `signal` aborts. */
  next(ms: number, signal: AbortSignal): Promise<void>;
  close(): void;
}

export async function daemonWakeups(client: Pick<ApiClient, 'watchEvents'>, signal: AbortSignal): Promise<Wakeups> {
  const abort = new AbortController();
  const ended = AbortSignal.any([abort.signal, signal]);
  let pending = false;
  let wake: (() => void) | null = null;
  const changed = (): void => {
    pending = true;
    wake?.();
  };
  try {
    const response = await client.watchEvents(ended);
    void (async () => {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) if (chunk.length > 0) changed();
    })().catch(() => {});
  } catch {
    // No stream: the fallback interval wakes the wait.
  }
  return {
    async next(ms, waitSignal) {
      if (!pending) {
        const woken = new AbortController();
        wake = () => woken.abort();
        await pause(ms, AbortSignal.any([waitSignal, woken.signal]));
        wake = null;
      }
      pending = false;
    },
    close: () => abort.abort(),
  };
}
