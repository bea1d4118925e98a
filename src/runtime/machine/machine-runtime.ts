/**
 * Commands on this machine: each session is `SHELL -c` (bash, else /bin/sh, or the daemon's
 * `--shell`: shell.ts) in its own process group (see spawn-command.ts), its processes marked with
 * TEND_SESSION_ID=<run id> and TEND_INSTANCE_ID=<daemon instance>, so that escaped descendants
 * and a dead daemon's orphans are found by their environment. PATH starts with the directory of
 * tend's `gitpod` and `ona` commands.
 */
import type { Clock } from '../../domain/clock.js';
import type { ExitInfo } from '../../domain/service-lifecycle.js';
import type { LogRotator } from '../log-rotation.js';
import type { AdoptResult, ListeningPort, PortHolder, Runtime, Session, SessionRecord, SessionSpec, SweepResult } from '../runtime.js';
import { listeningSockets, portHolder } from './listening-sockets.js';
import { MachineSession } from './machine-session.js';
import { PathWatches } from './path-watch.js';
import { recentBirthCounts, type Birth } from './pid-order.js';
import { bootId, findMarkedProcesses, INSTANCE_MARKER_VAR, isAlive, ProcError, sendSignal } from './proc.js';
import { spawnCommand } from './spawn-command.js';
import type { SpawnEnvironment, Spawner } from './spawner.js';
import { PlainTestProber } from './plain-test-prober.js';
import { canRunProbeShell } from './probe-shell.js';
import { waitExit } from './terminate.js';

/** How often the exit of a re-adopted process (not our child) is checked. */
const ADOPTED_EXIT_POLL_MS = 100;
const ADOPTED_EXIT_NOTE = 'it was re-adopted after a daemon restart, so its exit code is unknown';
/** A command's PATH when the daemon has none. */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface MachineRuntimeOptions {
  /** The environment every command inherits, before its own variables. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Runs start, ready and stop commands (`shell -c command`). */
  readonly shell: string;
  /** Put first on every command's PATH: where tend's `gitpod` and `ona` commands are. */
  readonly binDir?: string;
  /** Marks every process this daemon starts (TEND_INSTANCE_ID). */
  readonly instanceId: string;
  readonly clock: Clock;
  /** Keeps the log files of running commands under their size cap. */
  readonly logs: LogRotator;
  /** Told when a session's processes are gone and their orphans swept. */
  readonly log?: { warn(data: object, message: string): void };
  /** Forks every command (the daemon's spawner process). */
  readonly spawner: Spawner;
}

export class MachineRuntime implements Runtime {
  /** What every command's environment starts with, sent to the spawner once. */
  private readonly baseEnv: Readonly<Record<string, string>>;
  private readonly base: SpawnEnvironment;
  /** One shell for the plain-test ready commands of all its sessions (plain-test-prober.ts). */
  private readonly plainTests: PlainTestProber | undefined;
  private readonly pathWatches = new PathWatches();

  constructor(private readonly options: MachineRuntimeOptions) {
    this.baseEnv = this.withPath({ ...options.baseEnv, [INSTANCE_MARKER_VAR]: options.instanceId });
    this.base = options.spawner.environment(this.baseEnv);
    this.plainTests = canRunProbeShell(options.shell) ? new PlainTestProber(options.shell, options.spawner) : undefined;
  }

  /** tend's commands first on PATH, also before a PATH of the spec's own: real files call `gitpod ...` whatever their PATH. */
  private withPath(env: Record<string, string>): Record<string, string> {
    const { binDir } = this.options;
    if (binDir !== undefined) env.PATH = env.PATH === undefined || env.PATH === '' ? `${binDir}:${DEFAULT_PATH}` : `${binDir}:${env.PATH}`;
    return env;
  }

  /** A command's variables beyond the base environment (the whole of them is base + these). */
  private environment(spec: SessionSpec): Record<string, string> {
    const env = this.withPath({ ...this.options.baseEnv, ...spec.env, [INSTANCE_MARKER_VAR]: this.options.instanceId });
    const own: Record<string, string> = {};
    for (const name of Object.keys(env)) if (env[name] !== this.baseEnv[name]) own[name] = env[name]!;
    return own;
  }

  private session(
    record: SessionRecord,
    exited: Promise<ExitInfo>,
    spec: SessionSpec,
    own?: { readonly signalGroup: (signal: NodeJS.Signals) => Promise<boolean>; readonly birth: Birth | undefined },
  ): Session {
    const { logs, clock, spawner, shell } = this.options;
    logs.track(record.logPath);
    void exited.then(() => logs.untrack(record.logPath));
    const commands = {
      spawner,
      base: this.base,
      baseEnv: this.baseEnv,
      env: this.environment(spec),
      cwd: spec.workspace,
      shell,
      logChanges: (path: string, listener: () => void) => logs.onChange(path, listener),
      ...(this.plainTests !== undefined ? { plainTests: this.plainTests, pathWatches: this.pathWatches } : {}),
    };
    return new MachineSession(record, exited, commands, clock, own);
  }

  /** Starts under way (the spawner has not answered yet). */
  private readonly starting = new Set<Promise<unknown>>();

  start(spec: SessionSpec): Promise<Session> {
    const started = this.spawn(spec);
    this.starting.add(started);
    started.then(
      () => this.starting.delete(started),
      () => this.starting.delete(started),
    );
    return started;
  }

  makeFiles(paths: readonly string[]): void {
    this.options.spawner.makeFiles(paths);
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.starting]);
  }

  private async spawn(spec: SessionSpec): Promise<Session> {
    // Before the fork: the session's scans then read only the pids handed out since (pid-order.ts).
    const before = recentBirthCounts(performance.now());
    const spawned = await spawnCommand(this.options.spawner, {
      command: spec.command,
      shell: this.options.shell,
      cwd: spec.workspace,
      base: this.base,
      env: this.environment(spec),
      logPath: spec.logPath,
      marker: spec.runId,
      outputPath: spec.outputPath,
    });
    const birth = before === null ? undefined : { pid: spawned.identity.pid, forksBefore: before.forks, tasksBefore: before.tasks };
    return this.session({ runId: spec.runId, identity: spawned.identity, logPath: spec.logPath }, spawned.exited, spec, { signalGroup: spawned.signalGroup, birth });
  }

  /** Alive with exactly the recorded identity (same boot, pid and start time), or lost. */
  async adopt(record: SessionRecord, spec: SessionSpec): Promise<AdoptResult> {
    if (record.identity.bootId !== bootId()) return { lost: 'the machine has restarted since' };
    let alive: boolean;
    try {
      alive = isAlive(record.identity);
    } catch (error) {
      if (!(error instanceof ProcError)) throw error;
      return { lost: `whether its process still runs cannot be told (${error.message}); it was left alone` };
    }
    if (!alive) return { lost: 'its process is gone (or its pid now belongs to another process, which was left alone)' };
    const exited = waitExit(record.identity, Number.MAX_SAFE_INTEGER, ADOPTED_EXIT_POLL_MS).then(
      (): ExitInfo => ({ code: null, signal: null, note: ADOPTED_EXIT_NOTE }),
    );
    return { session: this.session(record, exited, spec) };
  }

  /**
   * No orphans after a crash: every process a previous daemon of this state directory started
   * and that was not re-adopted (for example spawned just before the crash, with no record stored
   * yet) carries that daemon's instance marker; it is killed.
   */
  listeningSockets(): ListeningPort[] {
    return listeningSockets();
  }

  async portHolder(port: number): Promise<PortHolder | null> {
    return portHolder(port);
  }

  async sweep(previousInstances: readonly string[], adoptedRuns: ReadonlySet<string>): Promise<SweepResult> {
    const inUse = new Set<string>();
    for (const orphan of findMarkedProcesses()) {
      if (orphan.instance === null || !previousInstances.includes(orphan.instance)) continue;
      if (orphan.session !== null && adoptedRuns.has(orphan.session)) {
        inUse.add(orphan.instance);
        continue;
      }
      this.options.log?.warn({ pid: orphan.pid, session: orphan.session }, 'Killing an orphan of a previous daemon');
      sendSignal(orphan.pid, 'SIGKILL');
    }
    return { instancesInUse: [...inUse] };
  }
}
