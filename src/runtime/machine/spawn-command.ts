/**
 * Runs one command as `SHELL -c` (bash, or the daemon's `--shell`: see shell.ts) in a new session
 * and process group, with its output going straight to a log file: the child never writes into a
 * pipe that tend must drain (no back-pressure), and it keeps running if the daemon dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExitInfo, ProcessIdentity } from '../../domain/service-lifecycle.js';
import { LaunchError } from '../runtime.js';
import { bootId, ProcError, readProcStat, SESSION_MARKER_VAR, type ProcStat } from './proc.js';

export interface CommandSpec {
  readonly command: string;
  /** The shell that runs it, as `shell -c command`. */
  readonly shell: string;
  readonly cwd: string;
  /** The whole environment of the command. */
  readonly env: Readonly<Record<string, string>>;
  /** Appended to, never truncated: a stop command writes after the start command's output. */
  readonly logPath: string;
  /** Written into the environment as TEND_SESSION_ID so escaped descendants can be found. */
  readonly marker: string;
}

export interface SpawnedCommand {
  readonly identity: ProcessIdentity;
  readonly exited: Promise<ExitInfo>;
  readonly child: ChildProcess;
}

/** Throws LaunchError (with the reason) when the command cannot be started. */
export function spawnCommand(spec: CommandSpec): SpawnedCommand {
  let fd: number;
  try {
    mkdirSync(dirname(spec.logPath), { recursive: true, mode: 0o700 });
    fd = openSync(spec.logPath, 'a', 0o600);
  } catch (error) {
    throw new LaunchError(`Cannot open its log file: ${(error as Error).message}`, { cause: error });
  }
  let child: ChildProcess;
  try {
    child = spawn(spec.shell, ['-c', spec.command], {
      cwd: spec.cwd,
      env: { ...spec.env, [SESSION_MARKER_VAR]: spec.marker },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } catch (error) {
    throw new LaunchError(`Cannot run "${spec.shell}": ${(error as Error).message}`, { cause: error });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT (missing cwd, missing shell) through an 'error' event; swallow it here.
    child.once('error', () => {});
    throw new LaunchError(`Cannot run the command: working directory "${spec.cwd}" or shell "${spec.shell}" is missing`);
  }
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let stat: ProcStat | null = null;
  try {
    stat = readProcStat(pid);
  } catch (error) {
    if (!(error instanceof ProcError)) throw error;
  }
  // The child may already have exited and been reaped; its start time is then unknowable, and an
  // empty start time never matches a live process, so nothing will be signalled by mistake.
  const identity: ProcessIdentity = { pid, pgid: pid, startTime: stat?.startTime ?? '', bootId: bootId() };
  return { identity, exited, child };
}
