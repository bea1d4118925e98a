/**
 * One run of a ready command on this machine: `SHELL -c` (see shell.ts) in its own process group,
 * forked by the daemon's spawner, the last few KiB of its output kept (for `tend status` and the
 * readiness timeout's message). `kill` ends the whole group, but only while the probe has not been
 * reaped: after that its pgid may be someone else's. What a probe leaves behind carries the
 * session marker and goes with the session.
 */
import type { ProbeResult, ProbeRun } from '../runtime.js';
import { SESSION_MARKER_VAR } from './proc.js';
import type { SpawnEnvironment, Spawner } from './spawner.js';

/** What one probe prints is kept up to this many bytes (its last ones). */
export const PROBE_OUTPUT_LIMIT = 4096;

export interface ProbeSpec {
  readonly command: string;
  readonly shell: string;
  readonly cwd: string;
  readonly base: SpawnEnvironment;
  readonly env: Readonly<Record<string, string>>;
  readonly marker: string;
}

export function runProbeProcess(spawner: Spawner, spec: ProbeSpec): ProbeRun {
  const spawned = spawner.spawn({
    file: spec.shell,
    args: ['-c', spec.command],
    cwd: spec.cwd,
    base: spec.base,
    env: { ...spec.env, [SESSION_MARKER_VAR]: spec.marker },
    capture: PROBE_OUTPUT_LIMIT,
  });
  const result = spawned.started.then(
    async (): Promise<ProbeResult> => {
      const { exit, output } = await spawned.exited;
      return { ok: exit.code === 0, output: output ?? '', code: exit.code };
    },
    (error: unknown): ProbeResult => ({ ok: false, output: (error as Error).message, code: null }),
  );
  return { result, kill: () => void spawned.signalGroup('SIGKILL') };
}
