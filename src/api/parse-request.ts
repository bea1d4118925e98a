/**
 * The way to a checked request body: `parseRequest('IdRequest', body)`. The schemas, zod and the
 * automations file's checks (`request-parsing.ts`) are loaded by the first request that has a
 * body to check, not at the daemon's start: a daemon that has only answered GetStatus (`tend up`
 * waiting for it) built none of them. Loading them takes about 15 ms, once.
 */
import type { z } from 'zod';
import type * as RequestSchemas from '../domain/request-schemas.js';
import type * as RequestParsing from './request-parsing.js';

type Schemas = typeof RequestSchemas;
/** The name of a request schema (request-schemas.ts exports nothing else). */
export type RequestName = keyof Schemas;

let loading: Promise<typeof RequestParsing> | undefined;

/** The module that checks bodies, loaded once. */
export function requestParsing(): Promise<typeof RequestParsing> {
  return (loading ??= import('./request-parsing.js'));
}

/** The body as the schema `name` reads it, or invalid_argument naming every problem. */
export async function parseRequest<K extends RequestName>(name: K, body: unknown): Promise<z.infer<Schemas[K]>> {
  const { parseBody, requestSchemas } = await requestParsing();
  return parseBody(requestSchemas[name], body) as z.infer<Schemas[K]>;
}
