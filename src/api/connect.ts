/**
 * Connect unary JSON, the part tend speaks: a JSON body in (read by `request-body.ts`), a JSON
 * body out; errors as `{code, message}` with Connect's HTTP status. A body is read by proto3
 * JSON's rules (`proto-json.ts`: null, proto names, enum numbers, unknown fields dropped) and
 * then checked strictly: a wrong type or an unknown enum name is refused with its path.
 */
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ApiError, invalidArgument, isRetryable } from '../domain/errors.js';
import { normalizeProtoJson } from './proto-json.js';

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One line per problem: `"metadata.role": Invalid option: expected one of ...`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = formatPath(issue.path);
      if (issue.code === 'unrecognized_keys') {
        const where = path === '' ? 'the request' : `"${path}"`;
        return `Unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} in ${where}`;
      }
      return path === '' ? issue.message : `"${path}": ${issue.message}`;
    })
    .join('; ');
}

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('Invalid request: the body must be a JSON object');
  }
  const result = schema.safeParse(normalizeProtoJson(schema, body));
  if (!result.success) throw invalidArgument(`Invalid request: ${describeIssues(result.error.issues)}`);
  return result.data;
}

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
