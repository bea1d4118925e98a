import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../domain/errors.js';
import type { Subject } from '../domain/schema.js';

/**
 * `full`: the API token. `runner`: the runner token of a serve-only daemon, which may do what
 * `full` does and also report statuses (`environmentservice:update_status`). `logs`: reads logs.
 */
export type Scope = 'full' | 'runner' | 'logs';

/** Who made a request: its scope, and the principal that its token stands for (creators are set from it). */
export interface Caller {
  readonly scope: Scope;
  readonly subject: Subject;
}

export const LOGS_TOKEN_TTL_MS = 60 * 60 * 1000;

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Logs tokens (CreateEnvironmentLogsToken): they read logs and nothing else, for one hour. Kept
 * in memory: a restarted daemon hands out new ones.
 */
export class LogsTokens {
  private readonly tokens = new Map<string, number>();

  constructor(private readonly ttlMs = LOGS_TOKEN_TTL_MS) {}

  create(now = Date.now()): { accessToken: string; expiresAt: number } {
    for (const [token, expiresAt] of this.tokens) if (expiresAt <= now) this.tokens.delete(token);
    const accessToken = `logs_${randomBytes(32).toString('base64url')}`;
    const expiresAt = now + this.ttlMs;
    this.tokens.set(accessToken, expiresAt);
    return { accessToken, expiresAt };
  }

  valid(token: string, now = Date.now()): boolean {
    const expiresAt = this.tokens.get(token);
    return expiresAt !== undefined && expiresAt > now;
  }
}

/** Which scope the request's bearer token has; throws `unauthenticated` for a missing or wrong one. */
export function authenticate(header: string | undefined, token: string, logsTokens: LogsTokens, runnerToken?: string): Scope {
  if (header === undefined || header === '') {
    throw new ApiError('unauthenticated', 'Missing "Authorization: Bearer <token>" header: run `tend env` to get the token');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) {
    throw new ApiError('unauthenticated', 'Malformed "Authorization" header: expected "Bearer <token>"');
  }
  if (sameToken(match[1]!, token)) return 'full';
  if (runnerToken !== undefined && sameToken(match[1]!, runnerToken)) return 'runner';
  if (logsTokens.valid(match[1]!)) return 'logs';
  throw new ApiError('unauthenticated', 'Invalid token: run `tend env` to get the token of the running daemon');
}
