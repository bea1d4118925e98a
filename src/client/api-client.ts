/**
 * A small client of the daemon's API for the CLI and the MCP server: finds the daemon through
 * `daemon.json`, sends Connect unary JSON, and turns Connect errors into the messages the CLI
 * prints (and the MCP server answers with).
 */
import { readDaemonInfo, readToken, type DaemonInfo } from '../app/state-dir.js';

/** An expected failure: its message is what the user (or agent) reads; no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The daemon's Connect error code, when the failure is its answer (`not_found`, …). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Loads Node's fetch (its undici: about 16 ms on Node 20, which it loads on the first call) now,
 * for a CLI that waits anyway (for a daemon it started): its first call is then sent at once.
 */
export function loadFetch(): void {
  void globalThis.Response;
}

export interface ApiClient {
  readonly info: DaemonInfo;
  readonly stateDir: string;
  /** A Connect unary call; `service` defaults to gitpod.v1.EnvironmentAutomationService. */
  call<T>(method: string, body: unknown, service?: string): Promise<T>;
  /** GET of a log this daemon serves (masked as every served log); `signal` ends a followed one. */
  fetchLog(url: string, query: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  /** Opens `EventService/WatchEvents`: a JSON event a line until `signal` aborts or the daemon stops. */
  watchEvents(signal: AbortSignal): Promise<Response>;
}

export function connect(stateDir: string): ApiClient {
  const info = readDaemonInfo(stateDir);
  if (info === undefined) {
    throw new CliError(`No tend daemon is running for state directory ${stateDir}: \`tend up\` starts one`);
  }
  const token = readToken(stateDir);
  if (token === undefined) throw new CliError(`Cannot read the API token in ${stateDir}/token`);
  return apiClient(info, token, stateDir);
}

/** A client of the daemon at `info.url` (`gitpod` inside commands knows only the URL and token). */
export function apiClient(info: DaemonInfo, token: string, stateDir = ''): ApiClient {
  const headers = { authorization: `Bearer ${token}` };
  return {
    info,
    stateDir,
    async call<T>(method: string, body: unknown, service = 'gitpod.v1.EnvironmentAutomationService'): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${info.url}/${service}/${method}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      } catch (error) {
        throw new CliError(`Cannot reach the tend daemon at ${info.url}: ${(error as Error).message}`);
      }
      const text = await response.text();
      if (!response.ok) {
        let message = text;
        let code: string | undefined;
        try {
          ({ message = text, code } = JSON.parse(text) as { message?: string; code?: string });
        } catch {
          // not JSON: show it as it came
        }
        throw new CliError(message, 1, code);
      }
      return JSON.parse(text) as T;
    },
    async fetchLog(url: string, query: Record<string, string>, signal?: AbortSignal): Promise<Response> {
      const target = new URL(url);
      // On a control plane, logs stay with the runner that ran the command (its own token reads them).
      if (target.origin !== new URL(info.url).origin) {
        throw new CliError(`This log is kept by the runner at ${target.origin}, not by this daemon: read it there (tend ... logs --state-dir <the runner's state directory>)`);
      }
      for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
      let response: Response;
      try {
        response = await fetch(target, { headers, ...(signal !== undefined ? { signal } : {}) });
      } catch (error) {
        if (signal?.aborted === true) throw error;
        throw new CliError(`Cannot reach the tend daemon at ${info.url}: ${(error as Error).message}`);
      }
      if (!response.ok) throw new CliError(`Cannot read the log at ${url}: HTTP ${response.status}`);
      return response;
    },
    async watchEvents(signal: AbortSignal): Promise<Response> {
      let response: Response;
      try {
        response = await fetch(`${info.url}/gitpod.v1.EventService/WatchEvents`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ environmentId: info.environmentId }),
          signal,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        throw new CliError(`Cannot reach the tend daemon at ${info.url}: ${(error as Error).message}`);
      }
      if (!response.ok || response.body === null) throw new CliError(`Cannot follow the daemon's events at ${info.url}: HTTP ${response.status}`);
      return response;
    },
  };
}
