import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import { waitFor } from './wait.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly info: { url: string; pid: number; environmentId: string };
}

/** `tend daemon` as a real subprocess; killed when the test finishes if it is still running. */
export async function spawnDaemon(args: readonly string[], stateDir: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, 'daemon', '--state-dir', stateDir, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    // A daemon killed mid-test leaves its services running (that is what re-adoption is for):
    // they are found by the state directory in their GITPOD_OUTPUT and killed.
    killStateDirProcesses(stateDir);
  });
  const infoPath = join(stateDir, 'daemon.json');
  let ready = false;
  const info = await Promise.race([
    waitFor(
      () => {
        if (!existsSync(infoPath)) return undefined;
        // A daemon that died may have left its daemon.json: wait for this child's own.
        const info = JSON.parse(readFileSync(infoPath, 'utf8')) as DaemonProcess['info'];
        return info.pid === child.pid ? info : undefined;
      },
      { what: 'daemon.json' },
    ).finally(() => (ready = true)),
    exited.then((code) => {
      if (!ready) throw new Error(`tend daemon exited early (${code}):\n${output}`);
      return new Promise<never>(() => {});
    }),
  ]);
  return { child, output: () => output, exited, info };
}

/** Kills every process whose GITPOD_OUTPUT lies in this state directory (the services of its daemons). */
export function killStateDirProcesses(stateDir: string): number {
  const marker = `GITPOD_OUTPUT=${resolve(stateDir)}/`;
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').some((variable) => variable.startsWith(marker))) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed += 1;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}
