/**
 * Node as PID 1 neither reaps orphans nor gets the kernel's default signal actions. When the
 * daemon finds itself PID 1 (a container without an init), it re-executes itself under tini as a
 * child subreaper (`tini -s -g`): orphans of the whole tree are reaped by tini, signals reach tend
 * through it. PID 1 stays a thin Node process that forwards signals and exits with tend's code.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const INIT_CANDIDATES = ['/usr/bin/tini', '/sbin/tini', '/usr/local/bin/tini'];

function findInit(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'tini'));
  return [...INIT_CANDIDATES, ...onPath].find((path) => existsSync(path));
}

/**
 * Returns true when this process became the init wrapper (the daemon runs in a child and this
 * process must do nothing else), false when the daemon should start here.
 */
export function reexecUnderInit(warn: (message: string) => void): boolean {
  if (process.pid !== 1 || process.env.TEND_UNDER_INIT === '1') return false;
  const init = findInit();
  if (init === undefined) {
    warn('tend runs as PID 1 without an init: orphaned processes will not be reaped; run it under tini (the tend image does)');
    return false;
  }
  const child = spawn(init, ['-s', '-g', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TEND_UNDER_INIT: '1' },
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128 + 15)));
  return true;
}
