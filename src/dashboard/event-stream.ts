/**
 * The page's live feed: server-sent events over the daemon's resource events (what WatchEvents
 * streams), so the page never polls. Events:
 *
 * - `hello`: `{services, executions}` of ObservedTimes, first of all (what this daemon timed so far);
 * - `resource`: `{operation, resourceType, resourceId, times}`: the page reads that resource again
 *   through the API; `times` are the resource's ObservedTimes;
 * - `daemon`: GetStatus changed (file problems, control plane health): the page reads it again.
 *
 * A comment line every `heartbeatMs` keeps proxies (a forwarded port, a cloud IDE's) from closing
 * a quiet stream. As with WatchEvents, writing never waits for the reader: a reader more than
 * `maxQueued` events behind is disconnected, and the page lists everything again when it reconnects.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../domain/logger.js';
import { MAX_QUEUED_EVENTS, unblockingWriter } from '../domain/unblocking-writer.js';
import type { ResourceEvent, ResourceEvents } from '../engine/resource-events.js';
import type { ObservedTimes } from './observed-times.js';
import { SECURITY_HEADERS } from './http-replies.js';
import type { StatusFeed } from './status-feed.js';

export const DEFAULT_HEARTBEAT_MS = 15_000;

export interface EventStreamParts {
  readonly events: ResourceEvents;
  readonly times: ObservedTimes;
  readonly statusFeed: StatusFeed;
  readonly heartbeatMs: number;
  readonly log: Logger;
  readonly maxQueued?: number;
}

function timesOf(times: ObservedTimes, event: ResourceEvent): unknown {
  if (event.resourceType === 'RESOURCE_TYPE_SERVICE') return times.ofService(event.resourceId) ?? null;
  if (event.resourceType === 'RESOURCE_TYPE_TASK_EXECUTION') return times.ofExecution(event.resourceId) ?? null;
  return null;
}

export function streamPageEvents(response: ServerResponse, parts: EventStreamParts): void {
  const { events, times, statusFeed, log } = parts;
  const maxQueued = parts.maxQueued ?? MAX_QUEUED_EVENTS;
  response.socket?.setNoDelay(true);
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // Proxies that buffer answers (nginx and kin) pass this one through as it comes.
    'x-accel-buffering': 'no',
  });

  const write = unblockingWriter(response, maxQueued, (queued) =>
    log.warn({ queued }, 'Dashboard event stream reader too slow: disconnected'),
  );
  const send = (event: string, data: unknown): void => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const onResource = (event: ResourceEvent): void => {
    send('resource', { ...event, times: timesOf(times, event) });
    statusFeed.checkSoon();
  };
  const onStatus = (): void => send('daemon', {});
  const heartbeat = setInterval(() => {
    write(': keep-alive\n\n');
    statusFeed.check();
  }, parts.heartbeatMs);

  write('retry: 2000\n\n');
  send('hello', times.snapshot());
  events.on('event', onResource);
  statusFeed.on('changed', onStatus);
  response.once('close', () => {
    clearInterval(heartbeat);
    events.off('event', onResource);
    statusFeed.off('changed', onStatus);
  });
}
