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

/** How long a CLI command of a test may run before it is killed and the test told what it printed. */
const CLI_DEADLINE_MS = 20_000;

export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
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
    const timeoutMs = options.timeoutMs ?? CLI_DEADLINE_MS;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tend ${args.join(' ')} did not end within ${timeoutMs} ms; it printed:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(deadline);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  readonly info: { url: string; pid: number; environmentId: string };
  /** Sends the signal and waits for the exit code; past the deadline, fails with what the daemon printed. */
  readonly stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>;
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
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> => {
    child.kill(signal);
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`tend daemon did not exit within ${timeoutMs} ms of ${signal}; it printed:\n${output}`)), timeoutMs);
    });
    try {
      return await Promise.race([exited, late]);
    } finally {
      clearTimeout(deadline);
    }
  };
  return { child, output: () => output, exited, info, stop };
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
