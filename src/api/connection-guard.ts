/**
 * The server's limits against clients that hold connections without using them (no token needed
 * to open a socket): a connection must send its request's headers within `headersTimeoutMs`
 * (also one that sends nothing at all), its whole request within `requestTimeoutMs`, and an idle
 * connection between requests is closed after `keepAliveTimeoutMs`. At most `maxConnections` are
 * open: one more closes the oldest connection that has not yet made an authenticated request, or
 * else the oldest kept-alive one that is between requests (its client opens another when it needs
 * one: a `Promise.all` of 500 calls leaves 500 such connections for five seconds), or else, when
 * every other one is answering, the newcomer. So a flood of idle or slow sockets never keeps the
 * token's own calls out, and neither do the token's own idle connections. Streams that are
 * answering (events, followed logs) have no timeout and are never closed to make room.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ServerLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
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
  /** Open connections, oldest first. */
  private readonly open = new Set<Socket>();
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
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    // Node's headers timeout starts with the first byte; a connection that sends none gets the same.
    socket.setTimeout(this.limits.headersTimeoutMs, () => socket.destroy());
    if (this.open.size > this.limits.maxConnections) this.evictFor(socket);
  }

  private evictFor(newcomer: Socket): void {
    this.evicted += 1;
    const victim = this.oldest(newcomer, (socket) => !this.trusted.has(socket)) ?? this.oldest(newcomer, (socket) => (this.answering.get(socket) ?? 0) === 0) ?? newcomer;
    victim.destroy();
    this.open.delete(victim);
  }

  private oldest(newcomer: Socket, matches: (socket: Socket) => boolean): Socket | undefined {
    for (const socket of this.open) if (socket !== newcomer && matches(socket)) return socket;
    return undefined;
  }
}
