import { invalidArgument } from '../domain/errors.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  readonly items: T[];
  /** Empty when there are no more results. */
  readonly nextToken: string;
}

/** An item of a list with its position in creation order (the store's row seq, never reused). */
export interface Keyed<T> {
  readonly seq: number;
  readonly item: T;
}

export type ListName = 'services' | 'tasks' | 'executions';

/**
 * Keyset pages: a token names the last item of its page by its position in creation order, and
 * the next page starts after it (before it for a newest-first list). An item that exists for the
 * whole iteration is seen exactly once, whatever is created or deleted between two pages; a new
 * one comes after the cursor (in a newest-first list: before it, so it is not seen). The token is
 * opaque to clients; one that is not ours, or of another list, is refused rather than silently
 * read as the first page.
 */
export function paginate<T>(
  items: readonly Keyed<T>[],
  pagination: { token?: string; pageSize?: number } | undefined,
  list: ListName,
  order: 'oldest first' | 'newest first' = 'oldest first',
): Page<T> {
  const requested = pagination?.pageSize ?? 0;
  const pageSize = requested <= 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  const after = decodeToken(pagination?.token ?? '', list);
  const rest = after === undefined ? items : items.filter(({ seq }) => (order === 'oldest first' ? seq > after : seq < after));
  const page = rest.slice(0, pageSize);
  const last = page.at(-1);
  return { items: page.map(({ item }) => item), nextToken: rest.length > page.length && last !== undefined ? encodeToken(list, last.seq) : '' };
}

function encodeToken(list: ListName, seq: number): string {
  return Buffer.from(`k1:${list}:${seq}`).toString('base64url');
}

function decodeToken(token: string, list: ListName): number | undefined {
  if (token === '') return undefined;
  const match = /^k1:([a-z]+):(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (match === null || match[1] !== list) {
    throw invalidArgument(`Invalid "pagination.token" "${token}": use the nextToken of a previous response of this list`);
  }
  return Number(match[2]);
}
