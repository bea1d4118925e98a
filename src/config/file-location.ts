/** Where an automations file is looked for (light: no parser, for every CLI command's start-up). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where an automations file is looked for, in this order. */
export const AUTOMATIONS_FILE_CANDIDATES = [
  '.gitpod/automations.yaml',
  '.gitpod/automations.yml',
  '.ona/automations.yaml',
  '.ona/automations.yml',
];

export function findAutomationsFile(workspace: string): string | undefined {
  return AUTOMATIONS_FILE_CANDIDATES.map((candidate) => join(workspace, candidate)).find((path) => existsSync(path));
}
