/**
 * Connect unary JSON, the part tend speaks: a JSON body in (read by `request-body.ts`, checked by
 * `request-parsing.ts`), a JSON body out; errors as `{code, message}` with Connect's HTTP status.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, isRetryable } from '../domain/errors.js';

/** A 200 answer with a JSON body already serialised (see json-answer.ts). */
export function sendJson(response: ServerResponse, json: string): void {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  response.end(json);
}

export function sendError(response: ServerResponse, error: ApiError, extraHeaders: Readonly<Record<string, string>> = {}): void {
  const json = JSON.stringify({ code: error.code, message: error.message });
  response.writeHead(error.httpStatus, {
    ...error.headers,
    ...extraHeaders,
    'content-type': 'application/json',
    'x-should-retry': isRetryable(error.code) ? 'true' : 'false',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

export { ApiError };
