import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../domain/errors.js';

/** The bearer token of a request, compared in constant time with the daemon's. */
export function checkBearer(header: string | undefined, token: string): void {
  if (header === undefined || header === '') {
    throw new ApiError('unauthenticated', 'Missing "Authorization: Bearer <token>" header: run `tend env` to get the token');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) {
    throw new ApiError('unauthenticated', 'Malformed "Authorization" header: expected "Bearer <token>"');
  }
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError('unauthenticated', 'Invalid token: run `tend env` to get the token of the running daemon');
  }
}
