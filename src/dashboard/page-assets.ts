/**
 * The dashboard's built page (`npm run build` writes it to dist/web with vite): read once into
 * memory with a gzipped copy of each file. Files under `assets/` have their content hash in their
 * names, so they are cached for good; `index.html` names them and is checked every time.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Zlib from 'node:zlib';
import { lazyBuiltin } from '../domain/lazy-builtin.js';

const zlib = lazyBuiltin<typeof Zlib>('node:zlib');

export interface PageAsset {
  readonly body: Buffer;
  readonly gzipped: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/**
 * Where the built page is: beside the daemon's own compiled code (dist/web next to
 * dist/dashboard), or, when the daemon runs from its sources (the tests), in the repository's dist/.
 */
export function defaultPageDir(): string | undefined {
  const candidates = ['../web/', '../../dist/web/'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file of the built page by its URL path below the page's root (`index.html`, `assets/index-3f2a.js`). */
export function loadPageAssets(dir: string | undefined): ReadonlyMap<string, PageAsset> {
  const assets = new Map<string, PageAsset>();
  if (dir === undefined || !existsSync(dir)) return assets;
  for (const path of filesUnder(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const body = readFileSync(path);
    assets.set(name, {
      body,
      gzipped: zlib().gzipSync(body, { level: 9 }),
      contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      cacheControl: name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
    });
  }
  return assets;
}
