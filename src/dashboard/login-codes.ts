/**
 * One-time login codes: `tend dashboard` asks for one (with the API token) and puts it in the URL
 * it opens; the browser trades it for a session cookie. A code works once and only for a short
 * while, so a URL that leaks later (shell history, a screen share, the browser's history) logs
 * nobody in. Kept in memory: a restarted daemon knows none.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';

export const DEFAULT_LOGIN_CODE_TTL_MS = 5 * 60 * 1000;
/** Codes nobody used are dropped, oldest first, past this many. */
const MAX_PENDING_CODES = 64;

export class LoginCodes {
  /** Code → when it expires (ms since the epoch), in the order they were made. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly ttlMs = DEFAULT_LOGIN_CODE_TTL_MS,
  ) {}

  create(): { code: string; expiresAt: number } {
    const now = this.clock.now();
    for (const [code, expiresAt] of this.pending) if (expiresAt <= now) this.pending.delete(code);
    while (this.pending.size >= MAX_PENDING_CODES) this.pending.delete(this.pending.keys().next().value!);
    const code = randomBytes(24).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.pending.set(code, expiresAt);
    return { code, expiresAt };
  }

  /** True once for a code that is known and not expired; it is forgotten either way. */
  redeem(code: string): boolean {
    const expiresAt = this.pending.get(code);
    this.pending.delete(code);
    return expiresAt !== undefined && expiresAt > this.clock.now();
  }
}
