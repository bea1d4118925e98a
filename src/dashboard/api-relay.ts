/**
 * The page calls the daemon's own API: the same Connect methods, bodies and answers as the SDK,
 * sent to `/dashboard/api/<service>/<method>` with the session cookie. The dashboard passes them
 * on to the API with the API token, which never leaves the daemon, and hands back the API's answer
 * as it is (its errors included). Only the methods the page uses pass: a session can read, start,
 * stop, run and fire, but not rewrite what runs (no Create*, Update*, Delete* or Upsert*).
 * Logs go the same way (`/dashboard/logs/<id>` → `/logs/<id>`), masked as every served log.
 */
import { ApiError } from '../domain/errors.js';

export const PAGE_METHODS: Readonly<Record<string, readonly string[]>> = {
  'gitpod.v1.EnvironmentAutomationService': [
    'ListServices',
    'GetService',
    'StartService',
    'StopService',
    'ListTasks',
    'GetTask',
    'StartTask',
    'ListTaskExecutions',
    'GetTaskExecution',
    'StopTaskExecution',
  ],
  'tend.v1.DaemonService': ['GetStatus', 'FireTrigger', 'ListPorts'],
};

export interface Relayed {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

export class ApiRelay {
  constructor(
    /** Where this daemon's API answers on loopback, once it listens. */
    private readonly apiUrl: () => string,
    private readonly token: string,
  ) {}

  async call(service: string, method: string, body: Buffer): Promise<Relayed> {
    if (!(PAGE_METHODS[service] ?? []).includes(method)) {
      throw new ApiError('permission_denied', `The dashboard does not call ${service}/${method}: use the API token (tend env) for it`);
    }
    const response = await this.fetch(`/${service}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body.length === 0 ? '{}' : body,
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? 'application/json',
      body: Buffer.from(await response.arrayBuffer()),
    };
  }

  /** The log's answer, streaming; `signal` ends a followed one when the page goes away. */
  log(logId: string, query: URLSearchParams, signal: AbortSignal): Promise<Response> {
    const passed = new URLSearchParams();
    for (const name of ['follow', 'tail']) {
      const value = query.get(name);
      if (value !== null) passed.set(name, value);
    }
    return this.fetch(`/logs/${encodeURIComponent(logId)}?${passed}`, { signal });
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    try {
      return await fetch(`${this.apiUrl()}${path}`, { ...init, headers });
    } catch (error) {
      if ((init.signal as AbortSignal | undefined)?.aborted === true) throw error;
      throw new ApiError('unavailable', `Cannot reach the daemon's API at ${this.apiUrl()}: ${(error as Error).message}`);
    }
  }
}
