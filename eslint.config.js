// The folder layers of src/ (see ARCHITECTURE.md). A layer may import only the layers listed as
// allowed for it; `import-x/no-restricted-paths` refuses every other import across folders.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const LAYERS = {
  domain: [],
  config: ['domain'],
  runtime: ['domain'],
  store: ['domain'],
  engine: ['domain', 'config', 'runtime', 'store'],
  api: ['domain', 'config', 'engine'],
  // The web dashboard's server side: in front of the API, reaching it like any client.
  dashboard: ['domain', 'engine'],
  upstream: ['domain', 'store', 'engine'],
  app: ['domain', 'config', 'runtime', 'store', 'engine', 'api', 'dashboard', 'upstream'],
  // The daemon's client (its HTTP API, as the CLI and the MCP server use it).
  client: ['domain', 'app'],
  // `tend mcp`: talks to the daemon only through the client; never wires or reaches into a daemon.
  mcp: ['domain', 'config', 'client'],
  cli: ['domain', 'config', 'app', 'client', 'mcp'],
};

const zones = [
  ...Object.entries(LAYERS).map(([layer, allowed]) => ({
    target: `./src/${layer}`,
    from: Object.keys(LAYERS)
      .filter((other) => other !== layer && !allowed.includes(other))
      .map((other) => `./src/${other}`),
    message: `The ${layer} layer may import only: ${allowed.length === 0 ? 'nothing of src' : allowed.join(', ')} (ARCHITECTURE.md)`,
  })),
  // The page (web/) knows the daemon only by its wire shapes: the API's and the dashboard's.
  {
    target: './web',
    from: Object.keys(LAYERS)
      .filter((layer) => layer !== 'domain' && layer !== 'dashboard')
      .map((layer) => `./src/${layer}`),
    message: 'The page (web/) may take only the wire shapes of src/domain and src/dashboard (ARCHITECTURE.md)',
  },
  // The engine works through the runtime seam (runtime/runtime.ts); where a command runs is the runtime's business.
  {
    target: './src/engine',
    from: ['./src/runtime/machine', './src/runtime/docker'],
    message: 'The engine uses the runtime seam (runtime/runtime.ts), never a runtime implementation (ARCHITECTURE.md)',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    // Resolves the `.js` specifiers of our ESM sources to their `.ts` files.
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // A UTC time needs no time zone: toISOString's and toUTCString's first call sets one up through ICU (domain/utc-time.ts).
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { property: 'toISOString', message: 'Use utcTime/utcNow of domain/utc-time.ts: toISOString loads ICU time zone data on Node 20' },
        { property: 'toUTCString', message: 'Use httpDate of domain/utc-time.ts: toUTCString loads ICU time zone data on Node 20' },
      ],
    },
  },
  {
    // The page is bundled for the browser: what it imports from src/ must be types only, or it would ship in the page.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/src/**'], allowTypeImports: true, message: 'The page takes only types from src/ (import type): code would be bundled into it' }] },
      ],
    },
  },
);
