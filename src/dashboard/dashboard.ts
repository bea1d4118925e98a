/**
 * The web dashboard, served by the daemon where its API listens, in front of the API: it answers
 * its own paths (plain node:http request and response, so it moves with the server) and the API
 * never sees them. `/dashboard/` is the page, `/dashboard/login?code=` trades a one-time code for
 * a session cookie, `/dashboard/events` is the page's live feed, `/dashboard/api/...` and
 * `/dashboard/logs/...` reach the API for it (`api-relay.ts`). `tend dashboard` gets its code from
 * `tend.v1.DashboardService/CreateLoginCode` with the API token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../domain/logger.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ResourceEvents } from '../engine/resource-events.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import { ApiRelay } from './api-relay.js';
import { DEFAULT_HEARTBEAT_MS, streamPageEvents } from './event-stream.js';
import { readBody, send, sendError, sendNotice } from './http-replies.js';
import { LoginCodes } from './login-codes.js';
import { ObservedTimes } from './observed-times.js';
import { defaultPageDir, loadPageAssets, type PageAsset } from './page-assets.js';
import { crossOriginRefusal } from './request-origin.js';
import { cookieName, readCookie, sessionCookie, Sessions } from './sessions.js';
import { StatusFeed } from './status-feed.js';
import { utcTime } from '../domain/utc-time.js';

export const DASHBOARD_PATH = '/dashboard/';
const MAX_BODY_BYTES = 1024 * 1024;

export interface DashboardOptions {
  /** The API token: `CreateLoginCode` needs it, and the relay sends it to the API. */
  readonly token: string;
  /** The daemon's URL as a browser on this machine reaches it (a wildcard address made 127.0.0.1). */
  readonly url: () => string;
  readonly events: ResourceEvents;
  readonly services: ServiceEngine;
  readonly executions: ExecutionEngine;
  /** What GetStatus answers. */
  readonly status: () => unknown;
  readonly log: Logger;
  readonly clock?: Pick<Clock, 'now'>;
  readonly loginCodeTtlMs?: number;
  readonly sessionTtlMs?: number;
  readonly heartbeatMs?: number;
  /** The built page (default: dist/web). */
  readonly pageDir?: string;
}

/** A daemon's URL as a browser on its machine opens it: a wildcard address (0.0.0.0, ::) is loopback. */
export function browserUrl(daemonUrl: string): string {
  return daemonUrl.replace(/^http:\/\/0\.0\.0\.0(?=[:/]|$)/, 'http://127.0.0.1').replace(/^http:\/\/\[::\](?=[:/]|$)/, 'http://[::1]');
}

const pathOf = (url: string | undefined): string => (url ?? '/').split('?')[0]!;

function bearer(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class Dashboard {
  private readonly codes: LoginCodes;
  private readonly sessions: Sessions;
  private readonly relay: ApiRelay;
  private readonly times: ObservedTimes;
  private readonly statusFeed: StatusFeed;
  private assets: ReadonlyMap<string, PageAsset> | undefined;
  private unobserve: (() => void) | undefined;

  constructor(private readonly options: DashboardOptions) {
    const clock = options.clock ?? systemClock;
    this.codes = new LoginCodes(clock, options.loginCodeTtlMs);
    this.sessions = new Sessions(clock, options.sessionTtlMs);
    this.relay = new ApiRelay(options.url, options.token);
    this.times = new ObservedTimes(clock);
    this.statusFeed = new StatusFeed(options.status);
  }

  /** The daemon has started (recovery done): phase changes from now on are timed. */
  started(): void {
    this.unobserve ??= this.times.observe(this.options.services, this.options.executions);
  }

  /** Something GetStatus shows has changed (the automations file was read again). */
  statusChanged(): void {
    this.statusFeed.check();
  }

  close(): void {
    this.unobserve?.();
  }

  /** The paths the dashboard answers; everything else is the API's. */
  handles(request: IncomingMessage): boolean {
    const path = pathOf(request.url);
    return path === '/' || path === '/favicon.ico' || path === '/dashboard' || path.startsWith(DASHBOARD_PATH) || path.startsWith('/tend.v1.DashboardService/');
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      await this.route(request, response);
    } catch (error) {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof ApiError) return sendError(response, error.code, error.message);
      this.options.log.error({ err: error }, 'Dashboard request failed unexpectedly');
      sendError(response, 'internal', 'Internal error: the daemon log has the details');
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const reading = method === 'GET' || method === 'HEAD';

    if (path === '/tend.v1.DashboardService/CreateLoginCode' && method === 'POST') return this.createLoginCode(request, response);
    if (path.startsWith('/tend.v1.DashboardService/')) throw new ApiError('unimplemented', `Method "${path.split('/')[2]}" does not exist on tend.v1.DashboardService`);
    // Relative redirects: behind a proxy that serves the daemon under a path of its own, they stay under it.
    if (reading && (path === '/' || path === '/dashboard')) return send(response, 303, { location: 'dashboard/', 'cache-control': 'no-store' });
    if (reading && path === '/favicon.ico') return send(response, 204, { 'cache-control': 'public, max-age=86400' });
    if (reading && path === '/dashboard/login') return this.login(url, request, response);

    if (path === '/dashboard/logout' && method === 'POST') {
      const session = this.requireSession(request, true);
      this.sessions.end(session);
      return send(response, 204, { 'set-cookie': sessionCookie(this.cookie(request), '', 0), 'cache-control': 'no-store' });
    }
    if (reading && path === '/dashboard/events') {
      this.requireSession(request, false);
      const parts = { events: this.options.events, times: this.times, statusFeed: this.statusFeed, log: this.options.log };
      return streamPageEvents(response, { ...parts, heartbeatMs: this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS });
    }
    const call = /^\/dashboard\/api\/([A-Za-z0-9_.]+)\/([A-Za-z0-9_]+)$/.exec(path);
    if (call !== null && method === 'POST') {
      this.requireSession(request, true);
      const relayed = await this.relay.call(call[1]!, call[2]!, await readBody(request, MAX_BODY_BYTES));
      return send(response, relayed.status, { 'content-type': relayed.contentType, 'cache-control': 'no-store' }, relayed.body);
    }
    const log = /^\/dashboard\/logs\/([^/]+)$/.exec(path);
    if (log !== null && reading) {
      this.requireSession(request, false);
      return this.relayLog(decodeURIComponent(log[1]!), url.searchParams, response);
    }
    if (reading && path.startsWith(DASHBOARD_PATH)) return this.page(path.slice(DASHBOARD_PATH.length), request, response);
    throw new ApiError('not_found', `No such endpoint: ${method} ${path}`);
  }

  private createLoginCode(request: IncomingMessage, response: ServerResponse): void {
    const given = bearer(request.headers.authorization);
    if (given === undefined || !sameSecret(given, this.options.token)) {
      throw new ApiError('unauthenticated', 'A dashboard login code needs the API token: run `tend dashboard`');
    }
    const { code, expiresAt } = this.codes.create();
    const body = { url: `${this.options.url()}/dashboard/login?code=${code}`, expiresAt: utcTime(expiresAt) };
    send(response, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }, JSON.stringify(body));
  }

  private login(url: URL, request: IncomingMessage, response: ServerResponse): void {
    const code = url.searchParams.get('code') ?? '';
    if (!this.codes.redeem(code)) {
      return sendNotice(response, 403, 'Login link refused', 'This login link was already used or has expired: run `tend dashboard` for a new one');
    }
    const session = this.sessions.create();
    send(response, 303, {
      location: './',
      'set-cookie': sessionCookie(this.cookie(request), session, this.sessions.ttlMs),
      'cache-control': 'no-store',
    });
  }

  private async relayLog(logId: string, query: URLSearchParams, response: ServerResponse): Promise<void> {
    const abort = new AbortController();
    response.once('close', () => abort.abort());
    const upstream = await this.relay.log(logId, query, abort.signal);
    const headers: Record<string, string> = { 'content-type': upstream.headers.get('content-type') ?? 'text/plain; charset=utf-8', 'cache-control': 'no-store' };
    const download = query.get('download');
    if (download !== null && upstream.ok) headers['content-disposition'] = `attachment; filename="${download.replace(/[^A-Za-z0-9_.-]/g, '_') || 'log'}.log"`;
    response.writeHead(upstream.status, headers);
    if (upstream.body === null) return void response.end();
    const body = Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream);
    body.on('error', () => response.destroy());
    body.pipe(response);
  }

  private page(name: string, request: IncomingMessage, response: ServerResponse): void {
    this.assets ??= loadPageAssets(this.options.pageDir ?? defaultPageDir());
    const asset = this.assets.get(name === '' ? 'index.html' : name);
    if (asset === undefined) {
      if (this.assets.size === 0) return sendNotice(response, 503, 'Dashboard not built', 'This tend has no built dashboard: run `npm run build`');
      return sendNotice(response, 404, 'Not found', `The dashboard has no ${name}`);
    }
    const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    const headers: Record<string, string> = { 'content-type': asset.contentType, 'cache-control': asset.cacheControl, vary: 'accept-encoding' };
    if (gzip) headers['content-encoding'] = 'gzip';
    send(response, 200, headers, request.method === 'HEAD' ? '' : gzip ? asset.gzipped : asset.body);
  }

  private cookie(request: IncomingMessage): string {
    return cookieName(request.socket.localPort ?? 0);
  }

  /** The request's session, refused without one or from another origin; returns its id. */
  private requireSession(request: IncomingMessage, changes: boolean): string {
    const refusal = crossOriginRefusal(request.headers, changes);
    if (refusal !== undefined) throw new ApiError('permission_denied', refusal);
    const session = readCookie(request.headers.cookie, this.cookie(request));
    if (!this.sessions.valid(session)) {
      throw new ApiError('unauthenticated', 'Not logged in to the dashboard (or the session ended): run `tend dashboard` to open it again');
    }
    return session!;
  }
}
