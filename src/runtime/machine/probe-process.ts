/**
 * One run of a ready command on this machine: `SHELL -c` (see shell.ts) in its own process group,
 * the last few KiB of its output kept (for `tend status` and the readiness timeout's message).
 * `kill` ends the whole group, but only while the probe has not been reaped: after that its pgid
 * may be someone else's. What a probe leaves behind carries the session marker and goes with the
 * session.
 */
import { spawn } from 'node:child_process';
import type { ProbeRun } from '../runtime.js';
import { sendSignal, SESSION_MARKER_VAR } from './proc.js';

/** What one probe prints is kept up to this many bytes (its last ones). */
export const PROBE_OUTPUT_LIMIT = 4096;

export function runProbeProcess(command: string, shell: string, cwd: string, env: Readonly<Record<string, string>>, marker: string): ProbeRun {
  const child = spawn(shell, ['-c', command], {
    cwd,
    env: { ...env, [SESSION_MARKER_VAR]: marker },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer): void => {
    chunks.push(chunk);
    kept += chunk.length;
    while (chunks.length > 1 && kept - chunks[0]!.length >= PROBE_OUTPUT_LIMIT) kept -= chunks.shift()!.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const kill = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) sendSignal(-child.pid, 'SIGKILL');
  };
  const result = new Promise<{ ok: boolean; output: string; code: number | null }>((resolve) => {
    child.once('error', (error) => resolve({ ok: false, output: error.message, code: null }));
    // 'exit', not 'close': a backgrounded grandchild may hold the pipes open indefinitely.
    child.once('exit', (code) => {
      // Let output already in the pipes arrive before it is read.
      setImmediate(() => resolve({ ok: code === 0, output: Buffer.concat(chunks).subarray(-PROBE_OUTPUT_LIMIT).toString('utf8'), code }));
    });
  });
  return { result, kill };
}
