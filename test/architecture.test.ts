import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

async function lintAs(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: resolve(root, path) });
  return (result?.messages ?? []).filter((message) => message.ruleId === 'import-x/no-restricted-paths').map((message) => message.message);
}

describe('folder layers (ARCHITECTURE.md)', () => {
  it('refuses an import from a layer that is not allowed', async () => {
    expect(await lintAs('src/domain/x.ts', "import '../engine/settings.js';\n")).toEqual([
      expect.stringContaining('The domain layer may import only: nothing of src'),
    ]);
    expect(await lintAs('src/runtime/x.ts', "import '../store/store.js';\n")).toHaveLength(1);
    expect(await lintAs('src/api/x.ts', "import '../runtime/proc.js';\n")).toHaveLength(1);
    expect(await lintAs('src/cli/x.ts', "import '../engine/service-engine.js';\n")).toHaveLength(1);
  });

  it('allows the imports the layers are made of', async () => {
    expect(await lintAs('src/engine/x.ts', "import '../runtime/proc.js';\nimport '../store/store.js';\n")).toEqual([]);
    expect(await lintAs('src/api/x.ts', "import '../engine/service-engine.js';\n")).toEqual([]);
    expect(await lintAs('src/app/x.ts', "import '../api/server.js';\n")).toEqual([]);
  });
});
