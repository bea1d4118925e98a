import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

async function lintAs(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: resolve(root, path) });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'import-x/no-restricted-paths').map((message) => message.message);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The code of a file without its comments (roughly: enough to tell names in code from words in prose). */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
}

describe('folder layers (ARCHITECTURE.md)', () => {
  it('refuses an import from a layer that is not allowed', async () => {
    expect(await lintAs('src/domain/x.ts', "import '../engine/settings.js';\n")).toEqual([
      expect.stringContaining('The domain layer may import only: nothing of src'),
    ]);
    expect(await lintAs('src/runtime/x.ts', "import '../store/store.js';\n")).toHaveLength(1);
    expect(await lintAs('src/api/x.ts', "import '../runtime/machine/proc.js';\n")).toHaveLength(1);
    expect(await lintAs('src/cli/x.ts', "import '../engine/services/service-engine.js';\n")).toHaveLength(1);
    expect(await lintAs('src/engine/x.ts', "import '../runtime/docker/docker-runtime.js';\n")).toEqual([
      expect.stringContaining('The engine uses the runtime seam'),
    ]);
    expect(await lintAs('src/engine/x.ts', "import '../runtime/machine/proc.js';\n")).toHaveLength(1);
    // The MCP server reaches the daemon only through its API client: never the daemon's own parts.
    expect(await lintAs('src/mcp/x.ts', "import '../app/daemon.js';\n")).toEqual([expect.stringContaining('The mcp layer may import only: domain, config, client')]);
    expect(await lintAs('src/mcp/x.ts', "import '../engine/automations.js';\n")).toHaveLength(1);
    expect(await lintAs('src/mcp/x.ts', "import '../cli/up-command.js';\n")).toHaveLength(1);
    expect(await lintAs('src/client/x.ts', "import '../mcp/mcp-server.js';\n")).toHaveLength(1);
    // The dashboard reaches the API like a client; the API knows nothing of it.
    expect(await lintAs('src/dashboard/x.ts', "import '../api/server.js';\n")).toEqual([expect.stringContaining('The dashboard layer may import only: domain, engine')]);
    expect(await lintAs('src/api/x.ts', "import '../dashboard/dashboard.js';\n")).toHaveLength(1);
    // The page takes wire shapes, as types only.
    expect(await lintAs('web/src/x.ts', "import type { Daemon } from '../../src/app/daemon.js';\n")).toEqual([expect.stringContaining('The page (web/) may take only')]);
  });

  it('keeps code of src/ out of the page: only type imports', async () => {
    const eslint = new ESLint({ cwd: root });
    const lint = async (code: string) =>
      ((await eslint.lintText(code, { filePath: resolve(root, 'web/src/x.ts') }))[0]?.messages ?? []).filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports');
    expect(await lint("import { TRIGGER_NAMES } from '../../src/domain/enums.js';\nexport const t = TRIGGER_NAMES;\n")).toHaveLength(1);
    expect(await lint("import type { Service } from '../../src/domain/schema.js';\nexport type S = Service;\n")).toEqual([]);
  });

  it('allows the imports the layers are made of', async () => {
    expect(await lintAs('src/engine/x.ts', "import '../runtime/runtime.js';\nimport '../store/store.js';\n")).toEqual([]);
    expect(await lintAs('src/api/x.ts', "import '../engine/services/service-engine.js';\n")).toEqual([]);
    expect(await lintAs('src/app/x.ts', "import '../api/server.js';\n")).toEqual([]);
    expect(await lintAs('src/mcp/x.ts', "import '../client/api-client.js';\nimport '../config/load-file.js';\n")).toEqual([]);
    expect(await lintAs('src/cli/x.ts', "import '../mcp/mcp-server.js';\nimport '../client/lookups.js';\n")).toEqual([]);
    expect(await lintAs('src/dashboard/x.ts', "import '../engine/resource-events.js';\n")).toEqual([]);
    expect(await lintAs('src/app/x.ts', "import '../dashboard/dashboard.js';\n")).toEqual([]);
    expect(await lintAs('web/src/x.ts', "import type { Service } from '../../src/domain/schema.js';\nimport type { StepTimes } from '../../src/dashboard/observed-times.js';\n")).toEqual([]);
  });
});

describe('the engine (ARCHITECTURE.md)', () => {
  const engine = sources(join(root, 'src/engine'));

  it('has no file over 300 lines', () => {
    const long = engine.filter((path) => readFileSync(path, 'utf8').split('\n').length > 300).map((path) => relative(root, path));
    expect(long).toEqual([]);
  });

  it('never names containers: where a command runs is the runtime\'s business', () => {
    const naming = engine.filter((path) => /container/i.test(code(path))).map((path) => relative(root, path));
    expect(naming).toEqual([]);
  });

  it('decides no phase: only the transition functions and the status projections assign one', () => {
    const allowed = new Set(['domain/service-lifecycle.ts', 'domain/service-status.ts', 'domain/execution-lifecycle.ts', 'domain/execution-status.ts']);
    // A status phase set to a literal (`phase: 'SERVICE_PHASE_RUNNING'`); desiredPhase is a request, not a phase.
    const assignment = /(?<![A-Za-z])phase\s*[:=]\s*'(SERVICE|TASK_EXECUTION)_PHASE_[A-Z]+'/;
    const deciding = sources(join(root, 'src'))
      .filter((path) => !allowed.has(relative(join(root, 'src'), path)))
      .filter((path) => assignment.test(code(path)))
      .map((path) => relative(root, path));
    expect(deciding).toEqual([]);
    expect(assignment.test("status: { phase: 'SERVICE_PHASE_STOPPED' }")).toBe(true);
    expect(assignment.test("desiredPhase: 'SERVICE_PHASE_STOPPED'")).toBe(false);
  });
});
