/**
 * The `gitpod` and `ona` commands that real automations files call from their commands
 * (`gitpod automations service start db`, `gitpod environment port open 3000`): two small shell
 * scripts in `<state-dir>/bin`, first on every machine command's PATH, that run tend's own
 * implementation (`dist/cli/gitpod-main.js`) with the daemon's Node.js. It talks to the daemon
 * through GITPOD_BASE_URL and GITPOD_API_KEY, which every command gets.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StateLayout } from '../domain/state-layout.js';

/** The package's root: `src/app` and `dist/app` both lie two levels below it. */
const PACKAGE_ROOT = resolve(import.meta.dirname, '..', '..');
/** Built by `npm run build`; in-process test daemons (running from src/) use it too. */
export const GITPOD_MAIN = join(PACKAGE_ROOT, 'dist', 'cli', 'gitpod-main.js');

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Writes `bin/gitpod` and `bin/ona` (owner only, replaced atomically); returns their directory. */
export function installGitpodCommands(layout: StateLayout, node = process.execPath, main = GITPOD_MAIN): string {
  mkdirSync(layout.bin, { recursive: true, mode: 0o700 });
  for (const name of ['gitpod', 'ona'] as const) {
    const path = layout.command(name);
    const script = [
      '#!/bin/sh',
      `# Written by tend when its daemon starts: \`${name}\` inside the commands it runs, backed by the`,
      '# daemon of GITPOD_BASE_URL. Subcommands tend does not provide say so and exit 1.',
      `exec ${shellQuote(node)} ${shellQuote(main)} ${name} "$@"`,
      '',
    ].join('\n');
    writeFileSync(`${path}.new`, script, { mode: 0o700 });
    chmodSync(`${path}.new`, 0o700);
    renameSync(`${path}.new`, path);
  }
  return layout.bin;
}
