/**
 * Runs a service's `ready` command until it exits 0. Probes never overlap; each has its own
 * timeout (its whole process group is killed when it expires); the pause between probes starts
 * short and doubles up to a ceiling, so a fast service is seen ready within tens of milliseconds
 * and a slow one costs little CPU.
 */
import { spawn } from 'node:child_process';
import { formatDuration } from '../domain/duration.js';
import { sendSignal, SESSION_MARKER_VAR } from './proc.js';

export interface ProbeTimings {
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly probeTimeoutMs: number;
}

export const DEFAULT_PROBE_TIMINGS: ProbeTimings = {
  initialIntervalMs: 20,
  maxIntervalMs: 1000,
  probeTimeoutMs: 10_000,
};

/** What one probe prints is kept for the readiness-timeout message, up to this many bytes. */
const PROBE_OUTPUT_LIMIT = 4096;

export interface ReadyProbeOptions {
  readonly command: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly marker: string;
  readonly timings: ProbeTimings;
  /** 0: probe until stopped. */
  readonly readinessTimeoutMs: number;
  readonly onReady: () => void;
  readonly onTimeout: (message: string) => void;
  /** Runs one probe somewhere else (inside a container); default: a process group here. */
  readonly runProbe?: () => { result: Promise<ProbeResult>; kill: () => void };
}

export interface ReadyProbe {
  cancel(): void;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly output: string;
}

function runProbe(options: ReadyProbeOptions): { result: Promise<ProbeResult>; kill: () => void } {
  const child = spawn('/bin/sh', ['-c', options.command], {
    cwd: options.cwd,
    env: { ...options.env, [SESSION_MARKER_VAR]: options.marker },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer): void => {
    if (kept >= PROBE_OUTPUT_LIMIT) return;
    chunks.push(chunk);
    kept += chunk.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // The whole group, but only while the probe has not been reaped: after that its pgid may be
  // someone else's. What a probe leaves behind carries the session marker and goes with the session.
  const kill = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) sendSignal(-child.pid, 'SIGKILL');
  };
  const result = new Promise<ProbeResult>((resolve) => {
    child.once('error', (error) => resolve({ ok: false, output: error.message }));
    // 'exit', not 'close': a backgrounded grandchild may hold the pipes open indefinitely.
    child.once('exit', (code) => {
      // Let output already in the pipes arrive before it is read.
      setImmediate(() =>
        resolve({ ok: code === 0, output: Buffer.concat(chunks).toString('utf8').slice(0, PROBE_OUTPUT_LIMIT) }),
      );
    });
  });
  return { result, kill };
}

export function startReadyProbe(options: ReadyProbeOptions): ReadyProbe {
  let cancelled = false;
  let pause = options.timings.initialIntervalMs;
  let lastOutput = '';
  let waitTimer: NodeJS.Timeout | undefined;
  let killCurrent: (() => void) | undefined;

  const finish = (): void => {
    cancelled = true;
    clearTimeout(waitTimer);
    clearTimeout(deadlineTimer);
    killCurrent?.();
  };

  const deadlineTimer =
    options.readinessTimeoutMs > 0
      ? setTimeout(() => {
          if (cancelled) return;
          finish();
          const tail = lastOutput.trimEnd();
          options.onTimeout(
            `Service did not become ready within ${formatDuration(options.readinessTimeoutMs)}: ` +
              `ready command "${options.command}" ` +
              (tail === '' ? 'never exited 0' : `never exited 0; its last output:\n${tail}`),
          );
        }, options.readinessTimeoutMs)
      : undefined;

  const probeOnce = async (): Promise<void> => {
    if (cancelled) return;
    const probe = options.runProbe?.() ?? runProbe(options);
    killCurrent = probe.kill;
    const probeTimer = setTimeout(probe.kill, options.timings.probeTimeoutMs);
    const { ok, output } = await probe.result;
    clearTimeout(probeTimer);
    killCurrent = undefined;
    probe.kill();
    if (cancelled) return;
    lastOutput = output;
    if (ok) {
      finish();
      options.onReady();
      return;
    }
    waitTimer = setTimeout(() => void probeOnce(), pause);
    pause = Math.min(pause * 2, options.timings.maxIntervalMs);
  };

  // The first probe waits one interval: a probe at the instant of the spawn only races the
  // service's own start and fails, costing a process for nothing.
  waitTimer = setTimeout(() => void probeOnce(), pause);
  pause = Math.min(pause * 2, options.timings.maxIntervalMs);
  return { cancel: finish };
}
