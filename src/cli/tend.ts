#!/usr/bin/env node
/**
 * The `tend` executable (package.json `bin`): turns on Node's compile cache, then runs the
 * command (main.ts). The cache holds the compiled code of every module tend loads, so later
 * starts skip compiling them; it must be on before those modules are compiled, hence the dynamic
 * import. Node has it from 22.1 (`module.enableCompileCache`, absent on 20 and from Node 20's
 * types: feature-detected); called with no argument, it caches in the OS temp dir, and unlike
 * NODE_COMPILE_CACHE it is not inherited by the processes tend starts. `node dist/cli/main.js`
 * is the same command without the cache.
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./main.js');
