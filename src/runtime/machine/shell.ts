/**
 * Which shell runs commands on this machine. Real automations files are written for bash
 * (`for i in {1..30}`, `echo -e`, `&> /dev/null`), and on Debian `/bin/sh` is dash, which prints
 * `{1..30}` and `-e` as they are: so bash when it exists, else `/bin/sh`. The daemon's `--shell`
 * names another. Start, ready and stop commands all run through it, as `SHELL -c COMMAND`.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export const FALLBACK_SHELL = '/bin/sh';
/** Where bash usually is, when the daemon's PATH does not have it. */
const BASH_PATHS = ['/bin/bash', '/usr/bin/bash', '/usr/local/bin/bash'];

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** An executable of this name on PATH (or the path itself when it has a slash), if any. */
function findExecutable(name: string, path: string | undefined): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? name : undefined;
  for (const dir of (path ?? '').split(':')) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** bash from the daemon's PATH or a usual place, else /bin/sh. */
export function defaultShell(path: string | undefined = process.env.PATH): string {
  return findExecutable('bash', path) ?? BASH_PATHS.find(isExecutableFile) ?? FALLBACK_SHELL;
}

/** The shell a `--shell` setting names (a path, or a name found on PATH); throws with the reason. */
export function resolveShell(setting: string, path: string | undefined = process.env.PATH): string {
  const found = findExecutable(setting, path);
  if (found === undefined) {
    throw new Error(`Invalid --shell "${setting}": no executable file of that ${setting.includes('/') ? 'path' : 'name on PATH'}`);
  }
  return found;
}
