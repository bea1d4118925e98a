/** What every tool and resource of one `tend mcp` session works with. */
import type { ApiClient } from '../client/api-client.js';

/**
 * How the session reaches the workspace's daemon. The CLI supplies it: `ensure` finds the running
 * daemon or starts one as `tend up --detach` does; the MCP layer never starts a daemon itself.
 */
export interface DaemonAccess {
  /** The running daemon, or one started for the workspace (its start triggers fired). */
  ensure(): Promise<ApiClient>;
  /** The running daemon, if there is one; never starts one. */
  running(): ApiClient | undefined;
}

export interface McpContext {
  /** Paths an agent gives are relative to it. */
  readonly workspace: string;
  /** The daemon for this call; when none runs, one is started (one start at a time). */
  daemon(): Promise<ApiClient>;
  /** The running daemon for background work (log follows), which must not start one. */
  runningDaemon(): ApiClient | undefined;
  /** Aborted when the session ends: every wait and every log follow stops. */
  readonly closed: AbortSignal;
  /** Tells clients to list resources again (a new execution, an applied file). */
  resourcesChanged(): void;
}

/** One start at a time: calls that find no daemon while one is being started wait for that one. */
export function serializedDaemon(access: DaemonAccess): () => Promise<ApiClient> {
  let starting: Promise<ApiClient> | undefined;
  return () => {
    if (starting !== undefined) return starting;
    const running = access.running();
    if (running !== undefined) return Promise.resolve(running);
    starting = access.ensure().finally(() => {
      starting = undefined;
    });
    return starting;
  };
}
