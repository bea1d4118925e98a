/**
 * Connect unary JSON, the part tend speaks: a JSON body in, a JSON body out; errors as
 * `{code, message}` with Connect's HTTP status. Unknown fields and wrong types are refused with
 * the path of every offending field.
 */
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { ApiError, codeToHttpStatus, invalidArgument, isRetryable } from '../domain/errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

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
  const result = schema.safeParse(body);
  if (!result.success) throw invalidArgument(`Invalid request: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/** The JSON text of a request body; an empty body is `{}` (Connect allows it). */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidArgument(`Malformed JSON in the request body: ${(error as Error).message}`);
  }
}

export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.code(200).header('content-type', 'application/json').send(JSON.stringify(body));
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(codeToHttpStatus(error.code))
    .header('content-type', 'application/json')
    .header('x-should-retry', isRetryable(error.code) ? 'true' : 'false')
    .send(JSON.stringify({ code: error.code, message: error.message }));
}

export { ApiError };
