/**
 * The event stream (`EventService/WatchEvents`, a server-streaming method), in two framings:
 *
 * - `application/jsonl` (what the SDK sends, and `application/json`): one JSON event a line,
 *   nothing else (the SDK parses every line, so there are no blank keep-alive lines; TCP
 *   keep-alive holds the connection);
 * - `application/connect+json` (any Connect client, and tend's runner): Connect's streaming
 *   envelopes (a flags byte, a 32-bit big-endian length, the JSON message), ended by an
 *   end-stream envelope: `{}` when the daemon stops, `{"error": {code, message}}` for a request
 *   it refuses.
 *
 * Each reader has a bounded queue (`domain/unblocking-writer.ts`): a reader that falls more than
 * MAX_QUEUED_EVENTS behind is disconnected (it lists again when it reconnects), so slow readers
 * cost bounded memory and never slow the daemon down: writing never waits for a reader.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type * as Zlib from 'node:zlib';
import { lazyBuiltin } from '../domain/lazy-builtin.js';
import type { Logger } from '../domain/logger.js';
import { MAX_QUEUED_EVENTS, unblockingWriter } from '../domain/unblocking-writer.js';
import type { ApiError } from '../domain/errors.js';
import { invalidArgument } from '../domain/errors.js';
import type { ResourceEvent, ResourceEvents } from '../engine/resource-events.js';
import { MAX_BODY_BYTES, parseJsonBody } from './request-body.js';

const zlib = lazyBuiltin<typeof Zlib>('node:zlib');

const TCP_KEEPALIVE_MS = 15_000;

export type StreamFraming = 'jsonl' | 'connect';

const END_STREAM = 0x02;
const COMPRESSED = 0x01;

/** One Connect streaming envelope. */
export function envelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

/** The request message of a Connect streaming call: one envelope (gzipped if its flag says so). */
export function readRequestEnvelope(raw: Buffer, encoding: string | undefined): unknown {
  if (raw.length === 0) return {};
  if (raw.length < 5) throw invalidArgument('Malformed Connect envelope: shorter than its 5-byte prefix');
  const flags = raw.readUInt8(0);
  const length = raw.readUInt32BE(1);
  if (raw.length !== 5 + length) throw invalidArgument(`Malformed Connect envelope: it announces ${length} bytes and carries ${raw.length - 5}`);
  let message = raw.subarray(5);
  if ((flags & COMPRESSED) !== 0) {
    if ((encoding ?? '').toLowerCase() !== 'gzip') throw invalidArgument('Compressed Connect envelope without "Connect-Content-Encoding: gzip"');
    message = zlib().gunzipSync(message, { maxOutputLength: MAX_BODY_BYTES });
  }
  return parseJsonBody(message);
}

/** The open streams of a server: ended cleanly (an end-stream envelope) when it stops. */
export class EventStreams {
  private readonly open = new Set<() => void>();

  add(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  endAll(): void {
    for (const end of [...this.open]) end();
    this.open.clear();
  }
}

/** A request the stream refuses, answered the Connect way: HTTP 200 and an end-stream error. */
export function refuseStream(response: ServerResponse, error: ApiError): void {
  response.writeHead(200, { 'content-type': 'application/connect+json', 'cache-control': 'no-store' });
  response.end(envelope(END_STREAM, { error: { code: error.code, message: error.message } }));
}

export function streamEvents(
  response: ServerResponse,
  socket: Socket,
  events: ResourceEvents,
  log: Logger,
  framing: StreamFraming,
  streams: EventStreams,
  maxQueued = MAX_QUEUED_EVENTS,
): void {
  socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
  socket.setNoDelay(true);
  const contentType = framing === 'connect' ? 'application/connect+json' : 'application/jsonl';
  response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.flushHeaders();
  const frame = (event: ResourceEvent): string | Buffer => (framing === 'connect' ? envelope(0, event) : `${JSON.stringify(event)}\n`);

  const write = unblockingWriter(response, maxQueued, (queued) => {
    log.warn({ queued }, 'Event stream reader too slow: disconnected');
    events.off('event', listener);
  });
  const listener = (event: ResourceEvent): void => write(frame(event));
  events.on('event', listener);
  // The daemon stops: the stream ends as a stream should (a Connect client sees a clean end).
  const forget = streams.add(() => {
    events.off('event', listener);
    if (response.writableEnded || response.destroyed) return;
    response.end(framing === 'connect' ? envelope(END_STREAM, {}) : undefined);
  });
  response.once('close', () => {
    events.off('event', listener);
    forget();
  });
}
