/**
 * The server's limits against clients that hold connections without using them (no token needed
 * to open a socket): a connection must send its request's headers within `headersTimeoutMs`
 * (also one that sends nothing at all), its whole request within `requestTimeoutMs`, and an idle
 * connection between requests is closed after `keepAliveTimeoutMs`. At most `maxConnections` are
 * open: one more closes, the oldest first,
 *
 * 1. a connection that has had `arrivalGraceMs` to make an authenticated request and has not (a
 *    socket of a flood, idle or slow);
 * 2. else a kept-alive one of the token that is between requests (its client opens another when
 *    it needs one: a `Promise.all` of 500 calls leaves 500 such connections for five seconds);
 * 3. else one that has just arrived and not yet authenticated;
 * 4. else, when every other one is answering, the newcomer.
 *
 * So a flood of idle or slow sockets never keeps the token's own calls out, and neither do the
 * token's own idle connections; and a client that opens several connections at once while the
 * cap is full of idle ones does not see its new connections close each other before their
 * requests are read (16 at once once reset 15 of them). Streams that are answering (events,
 * followed logs) have no timeout and are never closed to make room.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ServerLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  /** How long a new connection has to make its first authenticated request before a flood's sockets are closed ahead of the token's idle ones. */
  readonly arrivalGraceMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
  arrivalGraceMs: 1_000,
};

/** The options of `http.createServer` that enforce the timeouts. */
export function httpServerOptions(limits: ServerLimits): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    // How often Node checks the two deadlines above: a quarter of the headers timeout, at most 1 s.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

export class ConnectionGuard {
  /** Open connections, oldest first, with when each arrived (performance.now()). */
  private readonly open = new Map<Socket, number>();
  private readonly trusted = new WeakSet<Socket>();
  /** Requests of a connection not yet answered to the end (a stream counts until it ends). */
  private readonly answering = new WeakMap<Socket, number>();
  /** Connections closed to stay within maxConnections. */
  evicted = 0;

  constructor(
    server: Server,
    private readonly limits: ServerLimits,
  ) {
    server.on('connection', (socket: Socket) => this.connected(socket));
    // A request has arrived: from now on Node's own deadlines (headers, request, keep-alive) apply.
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const { socket } = request;
      socket.setTimeout(0);
      this.answering.set(socket, (this.answering.get(socket) ?? 0) + 1);
      response.once('close', () => this.answering.set(socket, (this.answering.get(socket) ?? 1) - 1));
    });
  }

  get size(): number {
    return this.open.size;
  }

  /** The connection made a request with a valid token: it is evicted only after every untrusted one. */
  authenticated(socket: Socket): void {
    this.trusted.add(socket);
  }

  private connected(socket: Socket): void {
    this.open.set(socket, performance.now());
    socket.once('close', () => this.open.delete(socket));
    // Node's headers timeout starts with the first byte; a connection that sends none gets the same.
    socket.setTimeout(this.limits.headersTimeoutMs, () => socket.destroy());
    if (this.open.size > this.limits.maxConnections) this.evictFor(socket);
  }

  private evictFor(newcomer: Socket): void {
    this.evicted += 1;
    const arrivedBy = performance.now() - this.limits.arrivalGraceMs;
    const untrusted = (socket: Socket): boolean => !this.trusted.has(socket);
    const victim =
      this.oldest(newcomer, (socket, arrived) => untrusted(socket) && arrived <= arrivedBy) ??
      this.oldest(newcomer, (socket) => !untrusted(socket) && (this.answering.get(socket) ?? 0) === 0) ??
      this.oldest(newcomer, untrusted) ??
      newcomer;
    victim.destroy();
    this.open.delete(victim);
  }

  private oldest(newcomer: Socket, matches: (socket: Socket, arrived: number) => boolean): Socket | undefined {
    for (const [socket, arrived] of this.open) if (socket !== newcomer && matches(socket, arrived)) return socket;
    return undefined;
  }
}
