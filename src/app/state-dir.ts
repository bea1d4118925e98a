/**
 * The per-workspace state directory: `store.db`, `token`, `daemon.json`, `logs/`, `outputs/`,
 * `secrets/`. Default: `<workspace>/.tend`, or TEND_STATE_DIR.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StateLayout } from '../domain/state-layout.js';
import { bootId, isAlive } from '../runtime/machine/proc.js';
import { isStateDirLocked } from './instance-lock.js';
import { DEFAULT_STATE_DIR_NAME, resolveWorkspace } from './workspace.js';

export interface DaemonInfo {
  readonly url: string;
  readonly pid: number;
  readonly environmentId: string;
  /** The daemon's identity beside its pid (a pid alone may belong to anyone by now). */
  readonly startTime?: string;
  readonly bootId?: string;
}

/** `--state-dir`, else TEND_STATE_DIR, else `.tend` in the workspace (found from the current directory). */
export function resolveStateDir(options: { stateDir?: string; workspace?: string }): string {
  if (options.stateDir !== undefined) return resolve(options.stateDir);
  if (process.env.TEND_STATE_DIR !== undefined && process.env.TEND_STATE_DIR !== '') {
    return resolve(process.env.TEND_STATE_DIR);
  }
  return join(resolveWorkspace(options), DEFAULT_STATE_DIR_NAME);
}

/** The files of a state directory (every path comes from `domain/state-layout.ts`). */
export const stateFile = {
  store: (dir: string) => new StateLayout(dir).store,
  token: (dir: string) => new StateLayout(dir).token,
  runnerToken: (dir: string) => new StateLayout(dir).runnerToken,
  ownerId: (dir: string) => new StateLayout(dir).ownerId,
  runnerId: (dir: string) => new StateLayout(dir).runnerId,
  daemon: (dir: string) => new StateLayout(dir).daemonInfo,
  lock: (dir: string) => new StateLayout(dir).lock,
  owner: (dir: string) => new StateLayout(dir).lockOwner,
  daemonLog: (dir: string) => new StateLayout(dir).daemonLog,
};

/** The state directory is its owner's only (0700), also when it existed before. */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * TEND_TOKEN when set; else the token file, created with mode 0600 on first start. The runner
 * token of a serve-only daemon (TEND_RUNNER_TOKEN, or `runner-token`) is made the same way.
 */
export function loadOrCreateToken(dir: string, fromEnv: string | undefined, path = stateFile.token(dir)): string {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return token;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(`${path}.new`, `${token}\n`, { mode: 0o600 });
  chmodSync(`${path}.new`, 0o600);
  renameSync(`${path}.new`, path);
  return token;
}

/**
 * A stable id kept in the state directory (the owner of the API token, a serve-only daemon's
 * runner): a UUID made on first start, mode 0600, the same after every restart.
 */
export function loadOrCreateId(path: string): string {
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return id;
  }
  const id = randomUUID();
  writeFileSync(`${path}.new`, `${id}\n`, { mode: 0o600 });
  chmodSync(`${path}.new`, 0o600);
  renameSync(`${path}.new`, path);
  return id;
}

export function readToken(dir: string): string | undefined {
  if (process.env.TEND_TOKEN !== undefined && process.env.TEND_TOKEN !== '') return process.env.TEND_TOKEN;
  try {
    return readFileSync(stateFile.token(dir), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A serve-only daemon's runner token (TEND_RUNNER_TOKEN or its file), if it has one. */
export function readRunnerToken(dir: string): string | undefined {
  if (process.env.TEND_RUNNER_TOKEN !== undefined && process.env.TEND_RUNNER_TOKEN !== '') return process.env.TEND_RUNNER_TOKEN;
  try {
    return readFileSync(stateFile.runnerToken(dir), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Written to `.new` and renamed, so a reader never sees half a file. */
export function writeDaemonInfo(dir: string, info: DaemonInfo): void {
  const path = stateFile.daemon(dir);
  writeFileSync(`${path}.new`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

export function removeDaemonInfo(dir: string): void {
  rmSync(stateFile.daemon(dir), { force: true });
}

/**
 * The running daemon of this state directory, or undefined if none is running. Only a process
 * that is verifiably the one that wrote daemon.json (same pid, start time and boot) counts: the
 * pid of a dead daemon may belong to anyone by now, and nobody else is ever signalled.
 */
export function readDaemonInfo(dir: string): DaemonInfo | undefined {
  let info: DaemonInfo;
  try {
    info = JSON.parse(readFileSync(stateFile.daemon(dir), 'utf8')) as DaemonInfo;
  } catch {
    return undefined;
  }
  if (info.startTime === undefined || info.bootId === undefined) return isStateDirLocked(dir) ? info : undefined;
  let alive = false;
  try {
    alive = sameLiveProcess(info.pid, info.startTime, info.bootId);
  } catch {
    // /proc cannot be read: ask the lock instead.
    return isStateDirLocked(dir) ? info : undefined;
  }
  return alive ? info : undefined;
}

/** The process that wrote daemon.json (pid, start time, boot), and not a zombie; throws ProcError when /proc cannot be read. */
function sameLiveProcess(pid: number, startTime: string, boot: string): boolean {
  return boot === bootId() && isAlive({ pid, startTime });
}

/**
 * Whether the daemon of `info` still runs: the same process, and not a zombie (one that has
 * exited and waits for its parent to reap it has stopped everything: `tend down` run by a parent
 * that is busy must not wait for it). Without an identity (a daemon.json of an older tend), or
 * when /proc cannot be read, whether its pid is alive.
 */
export function daemonRunning(info: DaemonInfo): boolean {
  if (info.startTime !== undefined && info.bootId !== undefined) {
    try {
      return sameLiveProcess(info.pid, info.startTime, info.bootId);
    } catch {
      // /proc cannot be read: the pid is all there is.
    }
  }
  try {
    process.kill(info.pid, 0);
    return true;
  } catch {
    return false;
  }
}
