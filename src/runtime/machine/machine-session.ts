/** A session on this machine: its process group and escaped descendants, found by its marker. */
import { rmSync } from 'node:fs';
import { within, type Clock } from '../../domain/clock.js';
import type { ExitInfo } from '../../domain/service-lifecycle.js';
import { readLogTail } from '../log-tail.js';
import type { ListeningPort, ProbeRun, Session, SessionRecord, StopRules } from '../runtime.js';
import { listeningSocketsOf } from './listening-sockets.js';
import { applyStopRules, type Stoppable } from '../stop-rules.js';
import { runProbeProcess } from './probe-process.js';
import type { PathWatch, PathWatches } from './path-watch.js';
import { forkCount, type Birth } from './pid-order.js';
import { isPlainTest } from './plain-test.js';
import { testPaths } from './test-paths.js';
import type { PlainTestProber } from './plain-test-prober.js';
import { canRunProbeShell, ProbeShell } from './probe-shell.js';
import { ProcError, SESSION_MARKER_VAR } from './proc.js';
import { findSessionProcessesShared, ownSession } from './proc-scan.js';
import { spawnCommand } from './spawn-command.js';
import type { SpawnEnvironment, Spawner } from './spawner.js';
import { killSession, SessionProcesses } from './terminate.js';

/**
 * How long the shell of plain tests may repeat one without answering (it answers at once when the
 * outcome changes). Each answer and the next run's request cross the spawner, which relays the
 * shell: with 100 services waiting, a second's span cost 7.6–8.4 % of a core in W6b, five
 * seconds' 5.2–6.8 %. What the span delays is only the count of probes in `tend status`.
 */
const PLAIN_TEST_ANSWER_MS = 5000;

/**
 * The pause of a plain test whose files are watched (path-watch.ts): a change to one of them
 * probes it at once, so polling is only the net under a change the watch did not see.
 */
const WATCHED_PAUSE_MS = 1000;

/**
 * How long a stop waits for its start command, killed by group when /proc fails, to be reaped: a
 * SIGKILLed process exits as soon as it is scheduled, which on a loaded machine is not at once.
 */
const GROUP_KILL_REAP_MS = 5000;

/** How a session's commands are run: by the daemon's spawner, in an environment it knows. */
export interface SessionCommands {
  readonly spawner: Spawner;
  /** The environment of every command of the runtime. */
  readonly base: SpawnEnvironment;
  /** The session's own variables, on top of `base` (the marker is added when spawning). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Runs the ready and stop commands, as it ran the start command. */
  readonly shell: string;
  /** What `base` stands for (a probe shell is started by the daemon itself, with the whole environment). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Tells when the session's log grows (its readiness may have changed). */
  readonly logChanges: (path: string, listener: () => void) => () => void;
  /** Evaluates the plain-test ready commands of every session (bash only). */
  readonly plainTests?: PlainTestProber;
  /** Tells when the files a plain test looks at change. */
  readonly pathWatches?: PathWatches;
}

export class MachineSession implements Session {
  private readonly processes: SessionProcesses;
  private ended = false;
  private probes = 0;
  private probeShell: ProbeShell | undefined;
  /** Its ready command's id in the runtime's shell of plain tests. */
  private plainTest: number | undefined;
  /** The watch of the files its plain test looks at; null: none (not a file test, or not watchable). */
  private pathWatch: PathWatch | null | undefined;
  /** Who is told of its activity (its log grows, a file its test looks at changes). */
  private readonly activity = new Set<() => void>();
  private readonly ownGroup: ((signal: NodeJS.Signals) => Promise<boolean>) | undefined;

  /** Where the output of its probes in a shell (plain tests, probe shell) goes. */
  private get probeOutput(): string {
    return `${this.record.logPath}.probe`;
  }

  constructor(
    readonly record: SessionRecord,
    readonly exited: Promise<ExitInfo>,
    private readonly commands: SessionCommands,
    private readonly clock: Clock,
    /**
     * Our own child (not a re-adopted process): its group can be killed even when /proc fails us,
     * and its birth is known (its scans read only the pids handed out since).
     */
    own?: { readonly signalGroup: (signal: NodeJS.Signals) => Promise<boolean>; readonly birth: Birth | undefined },
  ) {
    this.ownGroup = own?.signalGroup;
    // Scans for other sessions may skip its processes from now on (proc-scan.ts).
    ownSession(record.runId);
    this.processes = new SessionProcesses({
      pgids: [record.identity.pgid],
      marker: record.runId,
      since: Number(record.identity.startTime),
      ...(own?.birth !== undefined ? { birth: own.birth } : {}),
    });
    void exited.then(() => {
      this.ended = true;
      this.endProbing();
    });
  }

  /**
   * A plain test costs no process, first probe included: the one shell of every session's plain
   * tests evaluates it (plain-test-prober.ts). Any other ready command's first probe is a process
   * of its own (most services are ready by then); a service that is not gets a probe shell for the
   * rest (probe-shell.ts), when its shell is bash.
   */
  probe(command: string): ProbeRun {
    const { spawner, shell, cwd, base, env } = this.commands;
    this.probes += 1;
    const plain = this.plainTestRun(command, 0, false);
    if (plain !== undefined) return plain;
    if (this.probes === 1 || this.ended || !canRunProbeShell(shell)) {
      return runProbeProcess(spawner, { command, shell, cwd, base, env, marker: this.record.runId });
    }
    return this.shellFor(command).run();
  }

  /** A plain test, or after the first probe where the shell is bash: the shell waits for the pause itself. */
  probeLater(command: string, delayMs: number, steady = false): ProbeRun | undefined {
    const plain = this.plainTestRun(command, delayMs, steady);
    if (plain !== undefined) {
      this.probes += 1;
      return plain;
    }
    if (this.probes === 0 || this.ended || !canRunProbeShell(this.commands.shell)) return undefined;
    this.probes += 1;
    return this.shellFor(command).run(delayMs);
  }

  /**
   * A run in the shell of plain tests, when `command` is one and that shell can run it; once the
   * pause is steady, the shell repeats it for up to five seconds of pauses and answers once.
   */
  private plainTestRun(command: string, delayMs: number, steady: boolean): ProbeRun | undefined {
    const { plainTests, baseEnv, env, cwd } = this.commands;
    if (this.ended || plainTests?.supported !== true || !isPlainTest(command)) return undefined;
    this.plainTest ??= plainTests.register({ command, env: { ...baseEnv, ...env }, cwd, outputPath: this.probeOutput });
    if (this.pathWatch === undefined) {
      const paths = testPaths(command, { ...baseEnv, ...env }, cwd);
      this.pathWatch = paths === null ? null : (this.commands.pathWatches?.watch(paths, () => this.activity.forEach((listener) => listener())) ?? null);
    }
    const pause = steady && this.pathWatch?.live === true ? Math.max(delayMs, WATCHED_PAUSE_MS) : delayMs;
    const repeat = steady && pause > 0 ? Math.max(1, Math.floor(PLAIN_TEST_ANSWER_MS / pause)) : 1;
    return plainTests.run(this.plainTest, pause, repeat);
  }

  private shellFor(command: string): ProbeShell {
    const { shell, cwd, env, baseEnv } = this.commands;
    this.probeShell ??= new ProbeShell({
      command,
      shell,
      cwd,
      env: { ...baseEnv, ...env, [SESSION_MARKER_VAR]: this.record.runId },
      outputPath: this.probeOutput,
    });
    return this.probeShell;
  }

  endProbing(): void {
    this.pathWatch?.close();
    this.pathWatch = undefined;
    this.probeShell?.close();
    this.probeShell = undefined;
    if (this.plainTest !== undefined) {
      this.commands.plainTests?.forget(this.plainTest);
      this.plainTest = undefined;
      rmSync(this.probeOutput, { force: true });
    }
  }

  onActivity(listener: () => void): () => void {
    const unwatch = this.commands.logChanges(this.record.logPath, listener);
    this.activity.add(listener);
    return () => {
      unwatch();
      this.activity.delete(listener);
    };
  }

  async stop(rules: StopRules): Promise<string | null> {
    try {
      return await this.applyStopRules(rules);
    } catch (error) {
      if (!(error instanceof ProcError)) throw error;
      return this.killOwnGroup(error);
    }
  }

  /** The sockets its processes (process group, marked descendants, their children) listen on. */
  async listeningPorts(): Promise<ListeningPort[]> {
    const members = await findSessionProcessesShared(this.processes.target);
    return listeningSocketsOf(members.map((member) => member.pid));
  }

  async killLeftovers(): Promise<void> {
    // Nothing was forked on the machine since its command was but the command itself, which has
    // exited: nothing of it can be left, and /proc need not be read (most task steps end so).
    const birth = this.processes.target.birth;
    if (this.ended && birth !== undefined && forkCount() === birth.forksBefore + 1) return;
    try {
      await killSession(this.processes.target);
    } catch (error) {
      if (!(error instanceof ProcError)) throw error;
      await this.killOwnGroup(error);
    }
  }

  /**
   * /proc cannot be read: the session's members cannot be found. The start command is our unreaped
   * child, so its process group is still its own and can be killed by number; whatever left it
   * may remain, and the message says so.
   */
  private async killOwnGroup(error: ProcError): Promise<string> {
    // The spawner signals the group only while it has not reaped the command.
    if (this.ownGroup !== undefined && !this.ended && (await this.ownGroup('SIGKILL'))) {
      // The stop ends once the command is gone, as one that /proc could follow does.
      await within(this.clock, this.exited, GROUP_KILL_REAP_MS);
      return `Cannot find the service's processes (${error.message}): its process group was killed, processes that left it may remain`;
    }
    return `Cannot find the service's processes (${error.message}): none was signalled`;
  }

  private applyStopRules(rules: StopRules): Promise<string | null> {
    const { processes, record } = this;
    const target: Stoppable = {
      terminate: () => processes.terminate(),
      gone: (signal) => processes.gone(signal),
      kill: () => processes.kill(),
      // The stop command carries the session's marker: kill() finds its processes too.
      runStopCommand: async (command) => {
        const { spawner, shell, cwd, base, env } = this.commands;
        const spawned = await spawnCommand(spawner, { command, shell, cwd, base, env, logPath: record.logPath, marker: record.runId });
        return { exited: spawned.exited, tail: () => readLogTail(record.logPath) };
      },
    };
    return applyStopRules(target, rules, this.clock);
  }
}
