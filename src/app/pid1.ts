/**
 * Node as PID 1 neither reaps orphans nor gets the kernel's default signal actions. When the
 * daemon finds itself PID 1 (a container without an init), it re-executes itself under tini as a
 * child subreaper (`tini -s -g`): orphans of the whole tree are reaped by tini, signals reach tend
 * through it. PID 1 stays a thin Node process that forwards signals and exits with tend's code,
 * or 128 + the number of the signal that ended it, as a shell reports it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';

const INIT_CANDIDATES = ['/usr/bin/tini', '/sbin/tini', '/usr/local/bin/tini'];

function findInit(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'tini'));
  return [...INIT_CANDIDATES, ...onPath].find((path) => existsSync(path));
}

/** The exit code for a child that ended with (code, signal): its code, or 128 + the signal's number (SIGKILL → 137). */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
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
  child.once('exit', (code, signal) => process.exit(exitCodeOf(code, signal)));
  return true;
}
