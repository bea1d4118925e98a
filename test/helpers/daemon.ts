/**
 * A real daemon for a test: in this process, on a loopback port, with a temp state directory and
 * millisecond timings, plus an official SDK client. When the test finishes (pass or fail) the
 * daemon is stopped and any process still carrying its instance marker is killed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Gitpod } from '@gitpod/sdk';
import { onTestFinished } from 'vitest';
import { startDaemon } from '../../src/app/daemon.js';
import type { Daemon, DaemonOptions } from '../../src/app/daemon-options.js';
import { Logger } from '../../src/domain/logger.js';
import { findProcesses, INSTANCE_MARKER_VAR, sendSignal } from '../../src/runtime/machine/proc.js';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly client: Gitpod;
  readonly workspace: string;
  readonly stateDir: string;
  /** Raw Connect call: returns the HTTP status and parsed body. */
  /** Raw Connect call (EnvironmentAutomationService unless `service` names another). */
  call(method: string, body: unknown, init?: { token?: string | null; rawBody?: string; service?: string }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export const TEST_TIMINGS = {
  stopTimeoutMs: 500,
  taskStopTimeoutMs: 500,
  probe: { initialIntervalMs: 5, maxIntervalMs: 50, probeTimeoutMs: 2000 },
} satisfies Partial<DaemonOptions>;

/** Captured daemon log lines, to assert on (and to show when a test fails). */
export function memoryLogger(lines: string[] = []) {
  return { log: Logger.create('debug', (record) => lines.push(JSON.stringify(record))), lines };
}

export function killInstanceProcesses(instanceId: string): number {
  const left = findProcesses([], INSTANCE_MARKER_VAR, instanceId);
  for (const ref of left) sendSignal(ref.pid, 'SIGKILL');
  return left.length;
}

export async function startTestDaemon(
  options: Partial<DaemonOptions> & { stateDir?: string; workspace?: string } = {},
): Promise<TestDaemon> {
  const root = options.stateDir === undefined || options.workspace === undefined ? tempDir() : '';
  const workspace = options.workspace ?? join(root, 'workspace');
  const stateDir = options.stateDir ?? join(root, 'state');
  mkdirSync(workspace, { recursive: true });
  const daemon = await startDaemon({
    ...TEST_TIMINGS,
    log: options.log ?? memoryLogger().log,
    ...options,
    workspace,
    stateDir,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
  };
  onTestFinished(async () => {
    await stop().catch(() => {});
    killInstanceProcesses(daemon.instanceId);
    await waitFor(() => findProcesses([], INSTANCE_MARKER_VAR, daemon.instanceId).length === 0, {
      what: 'the daemon processes to be gone',
    });
  });
  const client = new Gitpod({ baseURL: daemon.info.url, bearerToken: daemon.token, maxRetries: 0 });
  const call: TestDaemon['call'] = async (method, body, init = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const token = init.token === undefined ? daemon.token : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${daemon.info.url}/${init.service ?? 'gitpod.v1.EnvironmentAutomationService'}/${method}`, {
      method: 'POST',
      headers,
      body: init.rawBody ?? JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // leave as text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
  return { daemon, client, workspace, stateDir, call, stop };
}
