/**
 * A Node.js module loaded on first use. Some of Node's own modules are not in the snapshot it
 * starts from and cost 1 to 3 ms each to load (node:zlib, node:fs/promises, measured on Node 20):
 * a daemon that never reads a gzipped body nor a log does not pay for them at its start.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
