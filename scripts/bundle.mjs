// The `tend` command as a few files instead of hundreds of modules: part of `npm run build`, after
// tsc. Loading the daemon module by module (zod alone is 95 files) took most of its start-up and
// ~10 MiB of memory; bundled, it starts about a third faster and smaller (bench/RESULTS.md, W9).
//
// Writes dist/cli/main.js and dist/cli/gitpod-main.js (over tsc's) and their chunks beside them
// (dist/cli/bundle-*.js), from src/ directly, so that running it twice gives the same result.
// better-sqlite3 (a native addon), dockerode (loaded on first use of a container) and the MCP SDK
// (only `tend mcp`) stay in node_modules. The rest of dist/ is tsc's, as before. Without comments
// (src/ has them): a chunk's source stays in the daemon's heap, 1.35 MB of it with them, 1.15 MB
// without; W3 paired, four runs each: 59.3-61.4 MiB with, 58.3-59.0 MiB without.
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/cli`;
for (const name of readdirSync(out)) if (name.startsWith('bundle-')) rmSync(`${out}/${name}`);

await build({
  configFile: false,
  logLevel: 'warn',
  root,
  ssr: { noExternal: true, external: ['better-sqlite3', 'dockerode', '@modelcontextprotocol/sdk'] },
  build: {
    ssr: true,
    target: 'node20',
    outDir: out,
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: { main: `${root}src/cli/main.ts`, 'gitpod-main': `${root}src/cli/gitpod-main.ts` },
      // Chunks beside the entries: every module keeps dist/cli as its directory, as tsc's do.
      // No comments: the daemon keeps each chunk's source in its heap (V8 compiles functions lazily from it).
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'bundle-[name]-[hash].js', comments: false },
    },
  },
});
