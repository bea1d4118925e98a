// The dashboard's page: `vite build -c web/vite.config.ts` (part of `npm run build`) writes it to
// dist/web, which the daemon serves at /dashboard/. Paths are relative (base './') so the page also
// works behind a proxy that serves the daemon under a path of its own (a cloud IDE's port forwarding).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No data: URLs (the page's policy allows only its own files) and no inline module preload.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
