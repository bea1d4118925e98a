import { invalidArgument } from '../domain/errors.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  readonly items: T[];
  /** Empty when there are no more results. */
  readonly nextToken: string;
}

/**
 * Offset pages over a list in creation order. The token is opaque to clients; a token that is
 * not one of ours is refused rather than silently read as the first page.
 */
export function paginate<T>(items: readonly T[], pagination: { token?: string; pageSize?: number } | undefined): Page<T> {
  const requested = pagination?.pageSize ?? 0;
  const pageSize = requested <= 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  const offset = decodeToken(pagination?.token ?? '');
  const page = items.slice(offset, offset + pageSize);
  const next = offset + page.length;
  return { items: page, nextToken: next < items.length ? encodeToken(next) : '' };
}

function encodeToken(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeToken(token: string): number {
  if (token === '') return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (match === null) {
    throw invalidArgument(`Invalid "pagination.token" "${token}": use the nextToken of a previous response`);
  }
  return Number(match[1]);
}
