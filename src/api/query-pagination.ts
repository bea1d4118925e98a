import { ApiError } from '../domain/errors.js';

/**
 * The official SDK sends `token` and `pageSize` of List methods as query parameters; they join the
 * body's `pagination` (the body's own values win). Other methods ignore the query.
 */
export function withQueryPagination(body: unknown, query: Record<string, string | undefined>): unknown {
  if (query.token === undefined && query.pageSize === undefined) return body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  const given = record.pagination;
  const pagination = { ...(typeof given === 'object' && given !== null ? (given as Record<string, unknown>) : {}) };
  if (query.token !== undefined && pagination.token === undefined) pagination.token = query.token;
  if (query.pageSize !== undefined && pagination.pageSize === undefined && pagination.page_size === undefined) {
    const size = Number(query.pageSize);
    if (!Number.isInteger(size)) {
      throw new ApiError('invalid_argument', `Invalid "pageSize" "${query.pageSize}": give a whole number`);
    }
    pagination.pageSize = size;
  }
  return { ...record, pagination };
}
