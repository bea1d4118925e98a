/**
 * Reading a request body as Connect does, before any schema sees it: the content type must be one
 * the method takes (else HTTP 415), a `Content-Encoding: gzip` body is inflated (within the same
 * size bound, so a small bomb cannot grow past it), any other encoding is `unimplemented`, the
 * JSON may nest at most MAX_NESTING levels, and malformed JSON is `invalid_argument`.
 */
import type { IncomingMessage } from 'node:http';
import type * as Zlib from 'node:zlib';
import { lazyBuiltin } from '../domain/lazy-builtin.js';
import { ApiError, invalidArgument } from '../domain/errors.js';

const zlib = lazyBuiltin<typeof Zlib>('node:zlib');

export const MAX_BODY_BYTES = 1024 * 1024;
/** Far above any request of the reference (an automations file is about 7 levels deep). */
export const MAX_NESTING = 64;

/** What a unary method takes; the event stream also takes the SDK's `application/jsonl`. */
export const UNARY_TYPES = ['application/json'] as const;
export const STREAM_TYPES = ['application/json', 'application/jsonl', 'application/connect+json'] as const;

export interface BodyHeaders {
  readonly 'content-type'?: string | undefined;
  readonly 'content-encoding'?: string | undefined;
}

/** `application/json; charset=utf-8` → `application/json`. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

export function checkContentType(headers: BodyHeaders, accepted: readonly string[]): string {
  const type = mediaType(headers['content-type']);
  if (accepted.includes(type)) return type;
  const given = type === '' ? 'no Content-Type' : `Content-Type "${type}"`;
  throw new ApiError('invalid_argument', `Unsupported ${given}: send the request body as ${accepted[0]}`, {
    httpStatus: 415,
    headers: { 'accept-post': accepted.join(', ') },
  });
}

/** The body's bytes as sent, inflated when it came gzipped. */
export function decodeBody(headers: BodyHeaders, raw: Buffer): Buffer {
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  if (encoding !== 'gzip') {
    throw new ApiError('unimplemented', `Unsupported Content-Encoding "${encoding}": send the body as it is, or gzip it`, {
      headers: { 'accept-encoding': 'gzip' },
    });
  }
  try {
    return zlib().gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new ApiError('resource_exhausted', `Request body is larger than ${MAX_BODY_BYTES} bytes once inflated`);
    }
    throw invalidArgument(`Malformed gzip request body: ${(error as Error).message}`);
  }
}

/** How deeply the JSON text nests (objects and arrays), read in one pass without parsing it. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) inString = true;
    else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (char === 0x7d || char === 0x5d) depth--;
  }
  return deepest;
}

/** The JSON value of a body; an empty body is `{}` (Connect allows it). */
export function parseJsonBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  if (nestingDepth(text, MAX_NESTING) > MAX_NESTING) {
    throw invalidArgument(`Request body nests more than ${MAX_NESTING} levels deep: no request of this API needs that many`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidArgument(`Malformed JSON in the request body: ${(error as Error).message}`);
  }
}

/** Content type, encoding, nesting and JSON: the body of a Connect request, or a Connect error. */
export function readBody(headers: BodyHeaders, raw: Buffer | undefined, accepted: readonly string[] = UNARY_TYPES): unknown {
  checkContentType(headers, accepted);
  return parseJsonBody(decodeBody(headers, raw ?? Buffer.alloc(0)));
}

function tooLarge(): ApiError {
  return new ApiError('resource_exhausted', `Request body is larger than ${MAX_BODY_BYTES} bytes`);
}

/**
 * The raw bytes of a request's body, refused beyond MAX_BODY_BYTES (as announced by its
 * Content-Length, or as they arrive). What is not read is discarded by Node, so the connection
 * stays usable for the answer.
 */
export function collectBody(request: IncomingMessage): Promise<Buffer> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      request.off('data', onData);
      request.resume();
      reject(tooLarge());
    };
    request.on('data', onData);
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}
