/**
 * What a command loads: zod, the request schemas and the automations file's schema only once
 * something is to be checked. `tend --help` and a daemon that has only answered GetStatus (what
 * `tend up` waits for) never built a schema; building them and zod's own start took about 15 ms of
 * a daemon's start (bench/RESULTS.md, W9). Node's module hooks record every module loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli, spawnDaemon } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const RECORDER = resolve(import.meta.dirname, 'helpers/record-loads.mjs');

/** The env that records what a process loads into a new file, and the reader of that file. */
function recording(): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  const file = join(tempDir(), 'loaded.txt');
  return {
    env: { NODE_OPTIONS: `--import=${RECORDER}`, TEND_RECORD_LOADS: file },
    loaded: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((url) => url !== '') : []),
  };
}

/** Whether one of the modules is zod: one of its files, or a chunk of the build that bundles it. */
function loadsZod(urls: readonly string[]): boolean {
  return urls.some((url) => {
    if (!url.startsWith('file:')) return false;
    const path = fileURLToPath(url);
    // The bundler marks where each module it took begins: `// node_modules/zod/v4/core/util.js`.
    return path.includes('/node_modules/zod/') || (path.includes('/dist/') && /^\/\/ \S*node_modules\/zod\//m.test(readFileSync(path, 'utf8')));
  });
}

describe('lazy loading', () => {
  it('tend --help loads no zod, tend schema does', async () => {
    const help = recording();
    expect((await runCli(['--help'], { env: help.env })).code).toBe(0);
    expect(help.loaded().length).toBeGreaterThan(1);
    expect(loadsZod(help.loaded())).toBe(false);
    const schema = recording();
    const printed = await runCli(['schema'], { env: schema.env });
    expect(JSON.parse(printed.stdout)).toMatchObject({ title: expect.stringContaining('automations.yaml') });
    expect(loadsZod(schema.loaded())).toBe(true);
  });

  it('a daemon that has answered GetStatus has loaded no zod; the first request with a body loads it, and is checked as always', async () => {
    const stateDir = join(tempDir(), 'state');
    const { env, loaded } = recording();
    const daemon = await spawnDaemon(['--workspace', tempDir()], stateDir, env);
    const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const call = (path: string, body: unknown) =>
      fetch(`${daemon.info.url}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await call('tend.v1.DaemonService/GetStatus', {})).status).toBe(200);
    expect(loaded().some((url) => url.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(loadsZod(loaded())).toBe(false);
    const refused = await call('gitpod.v1.EnvironmentAutomationService/GetService', { id: 7 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ code: 'invalid_argument', message: expect.stringContaining('"id"') });
    expect(loadsZod(loaded())).toBe(true);
    await daemon.stop();
  });
});
