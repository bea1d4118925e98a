/**
 * Which workspace a CLI command is about, as docker compose finds its project: from the current
 * directory up to the nearest directory with an automations file (`.gitpod/automations.yaml`,
 * `.ona/automations.yaml`, or `.yml`) or a tend state directory (`.tend/` with its store), so
 * that `tend status` in `src/components/` talks to the repository's daemon and `tend up` there
 * uses the repository's file. Nothing found: the current directory itself.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findAutomationsFile } from '../config/file-location.js';
import { StateLayout } from '../domain/state-layout.js';

/** The state directory a workspace has by default. */
export const DEFAULT_STATE_DIR_NAME = '.tend';

function isWorkspace(dir: string): boolean {
  if (findAutomationsFile(dir) !== undefined) return true;
  const layout = new StateLayout(join(dir, DEFAULT_STATE_DIR_NAME));
  return existsSync(layout.store) || existsSync(layout.daemonInfo);
}

/** The nearest directory from `start` upward that is a workspace, else `start`. */
export function findWorkspace(start: string): string {
  const from = resolve(start);
  for (let dir = from; ; dir = dirname(dir)) {
    if (isWorkspace(dir)) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/** `--workspace` when given, else the workspace found from the current directory. */
export function resolveWorkspace(options: { workspace?: string | undefined }): string {
  return options.workspace !== undefined ? resolve(options.workspace) : findWorkspace(process.cwd());
}
