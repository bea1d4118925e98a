/**
 * The runtime seam: where and how one command runs. The engine asks a Runtime to start a
 * session, to adopt one a dead daemon left running, and to sweep what nobody adopted; it never
 * asks where the command runs. `machine/` runs process groups on this machine, `docker/` runs
 * containers; `routing-runtime.ts` picks one by the spec's `runsOn`. Tests of policy use a
 * FakeRuntime with the same interface.
 */
import type { ExitInfo } from '../domain/service-lifecycle.js';
import type { RunsOn } from '../domain/schema.js';
import type { SessionRecord } from '../domain/session-record.js';

export type { SessionRecord };

export interface SessionSpec {
  /** The id tend made for this run: the marker of its processes (and its container's label). */
  readonly runId: string;
  /** The service or execution the run belongs to (a container label). */
  readonly resourceId: string;
  /** The client's session string, for people reading labels; never used to find anything. */
  readonly sessionLabel: string;
  readonly command: string;
  /** The command's own variables: the spec's env (secrets resolved), GITPOD_OUTPUT, ... */
  readonly env: Readonly<Record<string, string>>;
  readonly workspace: string;
  /** Appended to, never truncated: a stop command writes after the start command's output. */
  readonly logPath: string;
  /**
   * Where GITPOD_OUTPUT points (a container mounts its directory): the runtime makes it, empty and
   * its owner's only, before the command runs.
   */
  readonly outputPath: string;
  readonly runsOn: RunsOn | undefined;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** What the probe printed, at most a few KiB. */
  readonly output: string;
  /** The probe's exit code, when it has one. */
  readonly code: number | null;
  /**
   * How many runs of the ready command this answer stands for (default 1): a runtime may repeat a
   * probe that cannot hang while its outcome stays the same, and answer once (`ProbeRun.spanMs`).
   */
  readonly probes?: number;
}

/** One run of a ready command; `kill` ends it (and what it started) at once. */
export interface ProbeRun {
  readonly result: Promise<ProbeResult>;
  kill(): void;
  /** A probe held back by the runtime (`probeLater`) begins now. */
  wake?(): void;
  /**
   * How long the runtime may hold its probes back in all; longer than the delay asked for when it
   * repeats them (`ProbeResult.probes`): until the answer, each of its pauses can be woken.
   */
  readonly spanMs?: number;
}

export interface StopRules {
  /** Run first when given; its exit decides the outcome. */
  readonly stopCommand: string | null;
  readonly timeoutMs: number;
  /** Kill at once (DeleteService with force). */
  readonly force: boolean;
}

/** A TCP socket in LISTEN state. */
export interface ListeningPort {
  readonly port: number;
  /** As people write it: `0.0.0.0`, `127.0.0.1`, `::`, ... */
  readonly address: string;
  /** The socket's inode (`socket:[inode]` among a process's file descriptors). */
  readonly inode: string;
}

/** Who holds a listening socket: a process of this machine. */
export interface PortHolder {
  readonly pid: number;
  /** Its command line, as `ps` shows it. */
  readonly command: string;
}

export interface Session {
  readonly record: SessionRecord;
  /** Resolves once the command has exited (a zombie counts as exited). */
  readonly exited: Promise<ExitInfo>;
  /** Runs the ready command once, in the session's place, with the session's variables. */
  probe(command: string): ProbeRun;
  /**
   * One run of the ready command `delayMs` from now, or as soon as its `wake()` is called, where
   * the runtime can wait more cheaply than the daemon's timers (the machine's probe shell);
   * undefined where it cannot (then `probe` after a timer). `steady`: the pause has reached its
   * ceiling, so the runtime may repeat the probe after the same pause (`ProbeRun.spanMs`).
   */
  probeLater?(command: string, delayMs: number, steady?: boolean): ProbeRun | undefined;
  /** No more probes will be asked for (ready, or probing was cancelled): what probing holds can go. */
  endProbing?(): void;
  /**
   * Calls `listener` when the session shows activity that may mean it became ready (its output
   * grew: servers say when they listen); returns how to stop listening.
   */
  onActivity?(listener: () => void): () => void;
  /** Applies the stop rules; resolves with the failure message of the stop, or null. */
  stop(rules: StopRules): Promise<string | null>;
  /** SIGKILL whatever is left of the session (after its command exited). */
  killLeftovers(): Promise<void>;
  /** The TCP ports the session's own processes listen on (found from their sockets, not declared). */
  listeningPorts(): Promise<ListeningPort[]>;
}

/** Refused to start: the message says why, in words a person can act on. */
export class LaunchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LaunchError';
  }
}

export type AdoptResult = { readonly session: Session } | { readonly lost: string };

export interface SweepResult {
  /** Instance ids whose processes are still in use (adopted): the next sweep still knows them. */
  readonly instancesInUse: readonly string[];
}

export interface Runtime {
  /** Starts a session; rejects with LaunchError when it cannot. */
  start(spec: SessionSpec): Promise<Session>;
  /**
   * Resolves once every start begun so far has its session or has failed, for a runtime whose
   * starts take a moment (the machine's: a round trip to its spawner), so that an answer to
   * StartService already shows STARTING. Not for starts that take long (a container's image pull).
   */
  settled?(): Promise<void>;
  /**
   * Files that commands about to start will write (their logs and GITPOD_OUTPUT files): made
   * ahead (empty, their owner's only), off the way of those starts. A hint: a start still makes
   * whatever is missing.
   */
  makeFiles?(paths: readonly string[]): void;
  /**
   * Takes over a session a dead daemon started, if it still runs exactly as recorded; `spec` is
   * what its ready and stop commands run with (as it was started).
   */
  adopt(record: SessionRecord, spec: SessionSpec): Promise<AdoptResult>;
  /**
   * After every adoption: ends what previous daemons of this state directory left running that
   * nobody adopted (processes carrying one of `previousInstances`, containers of the state directory).
   */
  sweep(previousInstances: readonly string[], adoptedRuns: ReadonlySet<string>): Promise<SweepResult>;
  /** Every socket listening on this machine (the host's network: a container's on the host network too). */
  listeningSockets(): ListeningPort[];
  /** The process that holds the socket listening on `port`, if one does. */
  portHolder(port: number): Promise<PortHolder | null>;
}
