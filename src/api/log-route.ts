/**
 * `GET /logs/<id>` (the URLs of `status.logUrl`): a service's run log or an execution's log,
 * `?tail=N` lines of it, followed (`?follow=false` to read it once) until the session or the
 * execution has ended and the file is drained. The answer starts before any output, so a
 * follower knows the log is there. Every byte goes through the mask of the log's secrets and the
 * API token (commands get it as GITPOD_API_KEY; a reader may hold only a logs token).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { ApiError } from '../domain/errors.js';
import type { ResourceEvents } from '../engine/resource-events.js';
import type { LogSource } from '../engine/log-source.js';
import { followExecutionLog, followLog } from './log-stream.js';
import { LogWakeup, type ChangeSubscription } from './log-wakeup.js';
import { maskStream } from './mask-stream.js';

export const LOG_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface LogRouteOptions {
  /** The log of this id, if there is one. */
  readonly find: (logId: string) => LogSource | undefined;
  /** A session or step that ends changes its resource: followers look whether their log ended. */
  readonly events: ResourceEvents;
  readonly token: string;
}

export function logRoute(options: LogRouteOptions) {
  const changes: ChangeSubscription = (listener) => {
    options.events.on('event', listener);
    return () => options.events.off('event', listener);
  };
  return (request: IncomingMessage, response: ServerResponse, logId: string, search: URLSearchParams): void => {
    const source = LOG_ID.test(logId) ? options.find(logId) : undefined;
    if (source === undefined) throw new ApiError('not_found', `Log "${logId}" not found`);
    const tail = search.get('tail') ?? undefined;
    const tailLines = tail === undefined ? undefined : Number(tail);
    if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) {
      throw new ApiError('invalid_argument', `Invalid "tail" "${tail}": give a whole number of lines`);
    }
    const followParam = search.get('follow');
    const follow = followParam !== 'false' && followParam !== '0';
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.flushHeaders();
    if (request.method === 'HEAD') return void response.end();
    const wakeup = new LogWakeup(changes);
    const chunks =
      source.kind === 'file'
        ? followLog(source.path, { follow, tailLines, isLive: source.isLive, wakeup })
        : followExecutionLog(source, { follow, wakeup });
    const stream = Readable.from(maskStream(chunks, () => [...source.secrets(), options.token]));
    // An error is the reader going away; node:stream's callback form (its promise form is one
    // more module to load at the daemon's start).
    pipeline(stream, response, () => wakeup.close());
  };
}
