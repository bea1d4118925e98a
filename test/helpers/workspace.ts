/**
 * A workspace for the CLI's tests: `.gitpod/automations.yaml` of the given lines, every process
 * tend starts for it carrying TEST_TAG. When the test ends (pass or fail) its daemon is stopped
 * with `tend down` and anything still carrying the tag is killed.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { onTestFinished } from 'vitest';
import { findProcesses, sendSignal } from '../../src/runtime/machine/proc.js';
import { CLI, runCli } from './cli.js';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

/** A `tend` command running in the background, its output in pipes; killed when the test ends. */
export interface RunningTend {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<number | null>;
  out(): string;
  err(): string;
  /** Waits until the output shows `text`; fails with all of the output. */
  see(text: string | RegExp, timeoutMs?: number): Promise<unknown>;
}

export function tendWorkspace(lines: string[]) {
  const dir = tempDir();
  mkdirSync(join(dir, '.gitpod'));
  writeFileSync(join(dir, '.gitpod', 'automations.yaml'), `${lines.join('\n')}\n`);
  const tag = randomUUID();
  const env = { TEST_TAG: tag };
  onTestFinished(async () => {
    await runCli(['down', '--workspace', dir]);
    for (const ref of findProcesses([], 'TEST_TAG', tag)) sendSignal(ref.pid, 'SIGKILL');
  });
  /** Runs `tend ARGS --workspace DIR` to its end. */
  const tend = (...args: string[]) => runCli([...args, '--workspace', dir], { cwd: dir, env });
  /** Starts `tend ARGS --workspace DIR` and goes on while it runs. */
  const start = (...args: string[]): RunningTend => {
    const child = spawn(process.execPath, [CLI, ...args, '--workspace', dir], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    onTestFinished(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    return {
      child,
      exited,
      out: () => out,
      err: () => err,
      see: (text, timeoutMs = 10_000) =>
        waitFor(() => (typeof text === 'string' ? out.includes(text) : text.test(out)), { what: String(text), timeoutMs }).catch((error: Error) => {
          throw new Error(`${error.message} in the output:\n${out}${err}`);
        }),
    };
  };
  return { dir, tag, tend, start, left: () => findProcesses([], 'TEST_TAG', tag).length };
}
