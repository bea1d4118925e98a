/**
 * The workspace's daemon as a background process, for `tend up`, `tend prebuild` and `tend down`:
 * the running one, or a new one started detached (its output in `<state-dir>/daemon.log`); and
 * stopping it (SIGTERM: it stops everything by the stop rules) until it has exited.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readDaemonInfo, resolveStateDir, stateFile, type DaemonInfo } from '../app/state-dir.js';
import { resolveWorkspace } from '../app/workspace.js';
import { findAutomationsFile } from '../config/file-location.js';
import { CliError, connect, loadFetch, type ApiClient } from '../client/api-client.js';
import { daemonAnswering, daemonExited } from './state-dir-wait.js';

const DAEMON_START_TIMEOUT_MS = 15_000;

export interface DaemonProcessOptions {
  stateDir?: string;
  workspace?: string;
  file?: string;
  stopTimeout?: string;
}

/** The workspace's daemon: the running one, or a new one started in the background. */
export async function ensureDaemon(options: DaemonProcessOptions): Promise<{ client: ApiClient; started: boolean; stateDir: string }> {
  const workspace = resolveWorkspace(options);
  const stateDir = resolveStateDir({ ...options, workspace });
  if (readDaemonInfo(stateDir) !== undefined) return { client: connect(stateDir), started: false, stateDir };
  const file = options.file ?? findAutomationsFile(workspace);
  if (file === undefined) {
    throw new CliError(`No automations file in ${workspace} or above it: create .gitpod/automations.yaml, or give --file`);
  }
  const cli = resolve(import.meta.dirname, 'main.js');
  const args = [cli, 'daemon', '--workspace', workspace, '--state-dir', stateDir, '--file', resolve(file)];
  if (options.stopTimeout !== undefined) args.push('--stop-timeout', options.stopTimeout);
  const logPath = stateFile.daemonLog(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const out = openSync(logPath, 'a', 0o600);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    // Its own working directory, so that a `tend up` run from a subdirectory holds none of it.
    cwd: workspace,
    env: { ...process.env, TEND_LOG_LEVEL: process.env.TEND_LOG_LEVEL ?? 'info' },
  });
  closeSync(out);
  child.unref();
  // The daemon takes 100 ms or more to answer; meanwhile, on the other core, what the first call needs.
  loadFetch();
  // Woken when daemon.json appears, when the child exits before it does, or at the deadline.
  const given = new AbortController();
  const giveUp = (): void => given.abort();
  child.once('exit', giveUp);
  const deadline = setTimeout(giveUp, DAEMON_START_TIMEOUT_MS);
  // A last look: another `tend up`'s daemon may have won the state directory as this one gave up.
  const info = (await daemonAnswering(stateDir, given.signal)) ?? readDaemonInfo(stateDir);
  clearTimeout(deadline);
  child.off('exit', giveUp);
  if (info === undefined) {
    const log = existsSync(logPath) ? readFileSync(logPath, 'utf8').split('\n').slice(-10).join('\n') : '';
    throw new CliError(`The tend daemon did not start (its log is ${logPath}):\n${log}`);
  }
  return { client: connect(stateDir), started: true, stateDir };
}

/** Stops the daemon (it stops everything by the stop rules) and waits until it has exited. */
export async function stopDaemon(stateDir: string, info: DaemonInfo): Promise<void> {
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    return;
  }
  await daemonExited(stateDir, info);
}
