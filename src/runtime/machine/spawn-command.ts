/**
 * Runs one command as `SHELL -c` (bash, or the daemon's `--shell`: see shell.ts) in a new session
 * and process group, with its output going straight to a log file: the child never writes into a
 * pipe that tend must drain (no back-pressure), and it keeps running if the daemon dies. The fork
 * happens in the daemon's spawner (spawner.ts), never on the daemon's own thread.
 */
import type { ExitInfo, ProcessIdentity } from '../../domain/service-lifecycle.js';
import { SESSION_MARKER_VAR } from './proc.js';
import type { SpawnEnvironment, Spawner } from './spawner.js';

export interface CommandSpec {
  readonly command: string;
  /** The shell that runs it, as `shell -c command`. */
  readonly shell: string;
  readonly cwd: string;
  /** The environment of every command, which `env` adds to. */
  readonly base: SpawnEnvironment;
  /** The command's own variables (on top of `base`). */
  readonly env: Readonly<Record<string, string>>;
  /** Appended to, never truncated: a stop command writes after the start command's output. */
  readonly logPath: string;
  /** Written into the environment as TEND_SESSION_ID so escaped descendants can be found. */
  readonly marker: string;
  /** Its GITPOD_OUTPUT file, made empty (its owner's only) before it runs. */
  readonly outputPath?: string;
}

export interface SpawnedCommand {
  readonly identity: ProcessIdentity;
  readonly exited: Promise<ExitInfo>;
  /** A signal to its process group, only while it has not been reaped; resolves once sent (true) or needless. */
  signalGroup(signal: NodeJS.Signals): Promise<boolean>;
}

/** Rejects with LaunchError (with the reason) when the command cannot be started. */
export async function spawnCommand(spawner: Spawner, spec: CommandSpec): Promise<SpawnedCommand> {
  const spawned = spawner.spawn({
    file: spec.shell,
    args: ['-c', spec.command],
    cwd: spec.cwd,
    base: spec.base,
    env: { ...spec.env, [SESSION_MARKER_VAR]: spec.marker },
    log: spec.logPath,
    ...(spec.outputPath !== undefined ? { output: spec.outputPath } : {}),
  });
  // The child may already have exited and been reaped when the spawner looked; its start time is
  // then empty, which never matches a live process, so nothing will be signalled by mistake.
  const identity = await spawned.started;
  return { identity, exited: spawned.exited.then(({ exit }) => exit), signalGroup: (signal) => spawned.signalGroup(signal) };
}
