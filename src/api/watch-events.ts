/**
 * The event stream (`EventService/WatchEvents`): one JSON event a line, nothing else (the SDK
 * parses every line, so there are no blank keep-alive lines; TCP keep-alive holds the connection).
 * Each reader has a bounded queue: a reader that falls more than MAX_QUEUED_EVENTS behind is
 * disconnected (it lists again when it reconnects), so slow readers cost bounded memory and never
 * slow the daemon down: writing never waits for a reader.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ResourceEvent, ResourceEvents } from '../engine/resource-events.js';

export const MAX_QUEUED_EVENTS = 10_000;
const TCP_KEEPALIVE_MS = 15_000;

export function streamEvents(
  response: ServerResponse,
  socket: Socket,
  events: ResourceEvents,
  log: Logger,
  maxQueued = MAX_QUEUED_EVENTS,
): void {
  socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
  socket.setNoDelay(true);
  response.writeHead(200, { 'content-type': 'application/jsonl', 'cache-control': 'no-store' });
  response.flushHeaders();

  const queue: string[] = [];
  let blocked = false;
  const flush = (): void => {
    blocked = false;
    while (queue.length > 0) {
      if (!response.write(queue.shift()!)) {
        blocked = true;
        response.once('drain', flush);
        return;
      }
    }
  };
  const listener = (event: ResourceEvent): void => {
    const line = `${JSON.stringify(event)}\n`;
    if (!blocked) {
      if (!response.write(line)) {
        blocked = true;
        response.once('drain', flush);
      }
      return;
    }
    if (queue.length >= maxQueued) {
      log.warn({ queued: queue.length }, 'Event stream reader too slow: disconnected');
      events.off('event', listener);
      response.destroy();
      return;
    }
    queue.push(line);
  };
  events.on('event', listener);
  response.once('close', () => events.off('event', listener));
}
