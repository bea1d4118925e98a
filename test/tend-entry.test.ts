/**
 * The `tend` executable (package.json `bin`, dist/cli/tend.js) runs the same command as
 * dist/cli/main.js, with Node's compile cache on where the running Node has it (22.1 and later).
 */
import { spawn } from 'node:child_process';
import module from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type CliResult } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRY = join(ROOT, 'dist/cli/tend.js');
const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

function run(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Every file under dir, recursively (none when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('the tend executable', () => {
  it('is what package.json names as the tend command, and prints what main.js prints', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(resolve(ROOT, manifest.bin.tend!)).toBe(ENTRY);
    const env = { TMPDIR: tempDir(), NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined };
    const [entry, main] = await Promise.all([run(ENTRY, ['--help'], env), run(CLI, ['--help'], env)]);
    expect(entry).toEqual({ code: 0, stdout: main.stdout, stderr: '' });
    expect(entry.stdout).toContain('Usage: tend');
  });

  it(`caches the compiled modules in the temp dir where Node has a compile cache (22.1 and later), and none on Node 20 (this is ${process.version})`, async () => {
    const tmp = tempDir();
    const env = { TMPDIR: tmp, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined };
    expect(await run(CLI, ['--version'], env)).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    expect(filesUnder(join(tmp, 'node-compile-cache'))).toEqual([]);
    expect(await run(ENTRY, ['--version'], env)).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    const cached = filesUnder(join(tmp, 'node-compile-cache'));
    // At least one entry for each module the command loaded: tend.js, main.js and the bundle's
    // chunks main.js imports (the build bundles the command into a few files).
    const chunks = readFileSync(CLI, 'utf8').match(/from "\.\/bundle-[^"]+"/g) ?? [];
    if (hasCompileCache) expect(cached.length).toBeGreaterThanOrEqual(2 + chunks.length);
    else expect(cached).toEqual([]);
  });
});
