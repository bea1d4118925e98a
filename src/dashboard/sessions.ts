/**
 * The dashboard's browser sessions: a random id in an HttpOnly, SameSite=Strict cookie, made when
 * a login code is redeemed. Kept in memory (a restarted daemon asks the browser to log in again).
 *
 * Cookies are scoped by host, not by port (RFC 6265), so two daemons on 127.0.0.1 share one cookie
 * jar: each daemon names its cookie after the port it listens on, and a daemon never reads
 * another one's cookie.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';

export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export class Sessions {
  /** Session id → when it expires. */
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    readonly ttlMs = DEFAULT_SESSION_TTL_MS,
  ) {}

  create(): string {
    const now = this.clock.now();
    for (const [id, expiresAt] of this.sessions) if (expiresAt <= now) this.sessions.delete(id);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, now + this.ttlMs);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expiresAt = this.sessions.get(id);
    return expiresAt !== undefined && expiresAt > this.clock.now();
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }
}

/** The cookie of the daemon that listens on `port`. */
export function cookieName(port: number): string {
  return `tend_session_${port}`;
}

/** `Set-Cookie` for a new session: the page's scripts never see it, no other site sends it. */
export function sessionCookie(name: string, id: string, ttlMs: number): string {
  return `${name}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(ttlMs / 1000)}`;
}

/** The value of cookie `name` in a `Cookie` header, if it is there. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}
