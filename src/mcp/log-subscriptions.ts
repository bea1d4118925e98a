/**
 * Subscriptions to log resources: while a client is subscribed to a log, its output is followed
 * through the daemon's log endpoint and `notifications/resources/updated` is sent when new output
 * arrives (at most every NOTIFY_EVERY_MS). A service's log follows the service from run to run;
 * an execution's ends with it. Follows only use a running daemon: they never start one.
 */
import type { ApiClient } from '../client/api-client.js';
import { pause } from './pause.js';

/** Updates of one log are sent at most this often: a chatty command is not a flood. */
export const NOTIFY_EVERY_MS = 250;
/** How often a follow looks again for a log that has not begun, ended, or lost its daemon. */
export const FOLLOW_RETRY_MS = 500;

export interface FollowedLog {
  /** Where its log is now (undefined: it has not run yet) and whether more output may come. */
  locate(client: ApiClient): Promise<{ url: string | undefined; live: boolean; final: boolean }>;
}

export class LogSubscriptions {
  private readonly follows = new Map<string, AbortController>();

  constructor(
    private readonly daemon: () => ApiClient | undefined,
    private readonly notify: (uri: string) => void,
    private readonly closed: AbortSignal,
  ) {}

  subscribe(uri: string, log: FollowedLog): void {
    if (this.follows.has(uri)) return;
    const stop = new AbortController();
    this.follows.set(uri, stop);
    void this.follow(uri, log, AbortSignal.any([stop.signal, this.closed])).finally(() => {
      if (this.follows.get(uri) === stop) this.follows.delete(uri);
    });
  }

  unsubscribe(uri: string): void {
    this.follows.get(uri)?.abort();
    this.follows.delete(uri);
  }

  close(): void {
    for (const stop of this.follows.values()) stop.abort();
    this.follows.clear();
  }

  private async follow(uri: string, log: FollowedLog, signal: AbortSignal): Promise<void> {
    const notify = throttled(() => this.notify(uri), signal);
    let followed: string | undefined;
    let first = true;
    while (!signal.aborted) {
      const client = this.daemon();
      const where = client === undefined ? undefined : await log.locate(client).catch(() => undefined);
      if (client === undefined || where === undefined || where.url === undefined) {
        first = false;
        await pause(FOLLOW_RETRY_MS, signal);
        continue;
      }
      // A new run writes a new log: that is new content, though nothing was read of it yet.
      const fresh = where.url !== followed;
      if (fresh && !first) notify();
      first = false;
      if (fresh || where.live) {
        followed = where.url;
        try {
          const response = await client.fetchLog(where.url, { follow: 'true', tail: '0' }, signal);
          for await (const _chunk of response.body ?? []) notify();
        } catch {
          // aborted, or the daemon went away: look again below
        }
      }
      if (where.final) return;
      await pause(FOLLOW_RETRY_MS, signal);
    }
  }
}

/** Calls `send` at once, then at most once per NOTIFY_EVERY_MS for whatever came meanwhile. */
function throttled(send: () => void, signal: AbortSignal): () => void {
  let cooling: NodeJS.Timeout | undefined;
  let missed = false;
  const cool = (): void => {
    cooling = setTimeout(() => {
      cooling = undefined;
      if (missed && !signal.aborted) {
        missed = false;
        send();
        cool();
      }
    }, NOTIFY_EVERY_MS);
  };
  signal.addEventListener('abort', () => clearTimeout(cooling), { once: true });
  return () => {
    if (signal.aborted) return;
    if (cooling !== undefined) {
      missed = true;
      return;
    }
    send();
    cool();
  };
}
