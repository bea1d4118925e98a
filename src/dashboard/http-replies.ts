/**
 * The dashboard's answers over plain node:http (no framework): JSON errors in the API's Connect
 * shape, its few HTML pages, and the headers every answer carries. The page's policy forbids
 * anything not from this origin and every inline script or style attribute.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, codeToHttpStatus, type ConnectCode } from '../domain/errors.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** On every answer of the dashboard. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

export function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer = ''): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  response.end(body);
}

export function sendError(response: ServerResponse, code: ConnectCode, message: string): void {
  send(response, codeToHttpStatus(code), { 'content-type': 'application/json', 'cache-control': 'no-store' }, JSON.stringify({ code, message }));
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/** A page of a title and a paragraph (a refused login, a page that was not built). */
export function sendNotice(response: ServerResponse, status: number, title: string, text: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>tend: ${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`;
  send(response, status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, html);
}

/** The request's body, refused past `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError('resource_exhausted', `Request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
