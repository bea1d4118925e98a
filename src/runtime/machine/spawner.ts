/**
 * The daemon's side of its spawner (`spawner-main.ts`): every command of the machine runtime is
 * forked there, not here, so that the daemon's thread never blocks on a fork of its own heap.
 *
 * The protocol is one JSON object a line over the spawner's stdin and stdout:
 * - to the spawner: `{op: 'env', id, env}` (an environment that later spawns build on),
 *   `{op: 'files', paths}` (files that later spawns will open, made ahead: no answer),
 *   `{op: 'spawn', id, file, args, cwd, base?, env, log? | capture? | relay?}`,
 *   `{op: 'signal', id, signal}` (to the child's process group, only while the spawner has not
 *   reaped it), `{op: 'input', id, data?, end?}` (to a relayed child's stdin);
 * - from it: `{id, pid, startTime}` once spawned, `{id, error}` when it could not be,
 *   `{id, out}` for what a relayed child prints, and `{id, exit: {code, signal}, output?}` once
 *   the child has exited and been reaped.
 *
 * A relayed child is a long-lived helper that the daemon talks to over its stdin and stdout (the
 * shell of plain tests): forked here like any command, so that the daemon never forks at all.
 *
 * If the spawner itself dies, what it had started keeps running (sessions of their own): their
 * exits are then polled by identity, as a re-adopted process's are, and a new spawner starts on
 * the next spawn.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ExitInfo, ProcessIdentity } from '../../domain/service-lifecycle.js';
import { LaunchError } from '../runtime.js';
import { bootId } from './proc.js';
import { waitExit } from './terminate.js';

/** The package's root: the nearest directory above `from` that holds a package.json. */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

/**
 * Built by `npm run build` (tsc); found from wherever this module is: tsc's dist/runtime/machine,
 * the bundle's dist/cli, or src/ (daemons of the tests, which use the built one too).
 */
const SPAWNER_MAIN = join(packageRoot(import.meta.dirname), 'dist', 'runtime', 'machine', 'spawner-main.js');
/** How often the exit of a command is polled once its spawner is gone. */
const ORPHAN_EXIT_POLL_MS = 250;
const ORPHAN_EXIT_NOTE = "tend's process spawner stopped while it ran, so its exit code is unknown";

export interface SpawnRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** An environment made with `environment()`, which `env` adds to. */
  readonly base?: SpawnEnvironment;
  readonly env: Readonly<Record<string, string>>;
  /** Output appended to this file (created with its directory); else captured. */
  readonly log?: string;
  /** An empty file made first (with its directory), its owner's only: the command's GITPOD_OUTPUT. */
  readonly output?: string;
  /** Captured output: how many of its last bytes are kept. */
  readonly capture?: number;
}

export interface SpawnExit {
  readonly exit: ExitInfo;
  /** What it printed (its last bytes), when captured. */
  readonly output?: string;
}

/** A helper whose stdin and stdout the spawner relays (see the protocol above). */
export interface Relayed extends Spawned {
  /** Writes to its stdin (in order, with the spawner's other messages of the tick). */
  input(data: string): void;
  /** Closes its stdin. */
  endInput(): void;
}

/** A command handed to the spawner. */
export interface Spawned {
  /** Resolves once it runs, with its identity; rejects with LaunchError when it could not start. */
  readonly started: Promise<ProcessIdentity>;
  /** Resolves once it has exited (never rejects). */
  readonly exited: Promise<SpawnExit>;
  /**
   * Signals its process group while it has not been reaped (never another process's group);
   * resolves once the signal was sent (true) or found needless (false: it had exited).
   */
  signalGroup(signal: NodeJS.Signals): Promise<boolean>;
}

export interface SpawnEnvironment {
  readonly id: number;
}

interface Pending {
  identity?: ProcessIdentity;
  /** A relayed child's output. */
  onOutput?: (out: string) => void;
  /** Signals sent, in the order the spawner answers them. */
  readonly signals: Array<(sent: boolean) => void>;
  resolveStarted(identity: ProcessIdentity): void;
  rejectStarted(error: Error): void;
  resolveExited(exit: SpawnExit): void;
}

interface Reply {
  readonly id: number;
  readonly pid?: number;
  readonly startTime?: string;
  readonly error?: string;
  readonly exit?: { code: number | null; signal: string | null };
  readonly output?: string;
  readonly signalled?: boolean;
  readonly out?: string;
}

export class Spawner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Environments sent to the current spawner process (sent again to a new one). */
  private readonly environments = new Map<number, Readonly<Record<string, string>>>();
  private outgoing: string[] = [];
  private closed = false;

  constructor(
    private readonly main = SPAWNER_MAIN,
    private readonly log?: { warn(data: object, message: string): void },
  ) {}

  /** Starts the spawner process now rather than on the first spawn (it takes a few tens of ms). */
  warm(): void {
    this.process();
  }

  /** An environment that spawns can build on: sent once, not with every command. */
  environment(env: Readonly<Record<string, string>>): SpawnEnvironment {
    const id = this.nextId++;
    this.environments.set(id, env);
    if (this.child !== undefined) this.write({ op: 'env', id, env });
    return { id };
  }

  /** A helper with its stdin and stdout relayed: `onOutput` gets what it prints, as it prints it. */
  spawnRelayed(request: Omit<SpawnRequest, 'log' | 'output' | 'capture'>, onOutput: (out: string) => void): Relayed {
    const id = this.nextId++;
    const spawned = this.submit(id, request, onOutput);
    return {
      ...spawned,
      input: (data) => {
        if (this.pending.has(id)) this.write({ op: 'input', id, data });
      },
      endInput: () => {
        if (this.pending.has(id)) this.write({ op: 'input', id, end: true });
      },
    };
  }

  /**
   * Files that commands to come will open (their logs, their GITPOD_OUTPUT), made now (empty, their
   * owner's only, with their directories) while the spawner has time: creating a file is the
   * dearest part of a spawn on this project's disk, and dearer still beside the store's fsync.
   */
  makeFiles(paths: readonly string[]): void {
    if (this.closed || paths.length === 0) return;
    this.process();
    this.write({ op: 'files', paths });
  }

  spawn(request: SpawnRequest): Spawned {
    return this.submit(this.nextId++, request);
  }

  /** Hands the command to the spawner under `id`; `onOutput`: a relayed helper's output. */
  private submit(id: number, request: SpawnRequest, onOutput?: (out: string) => void): Spawned {
    let pending!: Pending;
    const started = new Promise<ProcessIdentity>((resolveStarted, rejectStarted) => {
      pending = { resolveStarted, rejectStarted, resolveExited: () => {}, signals: [] };
    });
    const exited = new Promise<SpawnExit>((resolveExited) => (pending.resolveExited = resolveExited));
    // A caller that only awaits `exited` must not see an unhandled rejection of `started`.
    started.catch(() => {});
    if (this.closed) {
      pending.rejectStarted(new LaunchError('The daemon is stopping'));
      return { started, exited, signalGroup: async () => false };
    }
    if (onOutput !== undefined) pending.onOutput = onOutput;
    this.pending.set(id, pending);
    this.process();
    const { base, ...rest } = request;
    this.write({ op: 'spawn', id, ...rest, ...(base !== undefined ? { base: base.id } : {}), ...(onOutput !== undefined ? { relay: true } : {}) });
    return {
      started,
      exited,
      signalGroup: (signal) => {
        if (!this.pending.has(id)) return Promise.resolve(false);
        this.write({ op: 'signal', id, signal });
        return new Promise((resolve) => pending.signals.push(resolve));
      },
    };
  }

  /** Ends the spawner process (the commands it started keep running). */
  close(): void {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    child?.stdin?.end();
  }

  private process(): ChildProcess {
    if (this.child !== undefined) return this.child;
    // No environment of the daemon's: each command gets its own, whole.
    const child = spawn(process.execPath, [this.main], { stdio: ['pipe', 'pipe', 'inherit'], env: {} });
    this.child = child;
    child.stdin!.on('error', () => {});
    let buffered = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.lastIndexOf('\n');
      if (end < 0) return;
      const lines = buffered.slice(0, end).split('\n');
      buffered = buffered.slice(end + 1);
      for (const line of lines) if (line !== '') this.reply(JSON.parse(line) as Reply);
    });
    child.once('exit', (code, signal) => this.lost(child, code, signal));
    for (const [id, env] of this.environments) this.write({ op: 'env', id, env });
    return child;
  }

  private write(message: object): void {
    if (this.outgoing.length === 0) setImmediate(() => this.flush());
    this.outgoing.push(JSON.stringify(message));
  }

  private flush(): void {
    const lines = this.outgoing;
    this.outgoing = [];
    if (lines.length > 0) this.child?.stdin?.write(`${lines.join('\n')}\n`);
  }

  private reply(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    if (reply.out !== undefined) {
      pending.onOutput?.(reply.out);
    } else if (reply.signalled !== undefined) {
      pending.signals.shift()?.(reply.signalled);
    } else if (reply.error !== undefined) {
      this.pending.delete(reply.id);
      pending.rejectStarted(new LaunchError(reply.error));
      pending.resolveExited({ exit: { code: null, signal: null, note: reply.error } });
    } else if (reply.exit !== undefined) {
      this.pending.delete(reply.id);
      for (const answer of pending.signals.splice(0)) answer(false);
      pending.resolveExited({ exit: reply.exit, ...(reply.output !== undefined ? { output: reply.output } : {}) });
    } else if (reply.pid !== undefined) {
      pending.identity = { pid: reply.pid, pgid: reply.pid, startTime: reply.startTime ?? '', bootId: bootId() };
      pending.resolveStarted(pending.identity);
    }
  }

  /** The spawner process ended: what it had not started fails, what runs is polled by identity. */
  private lost(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child === child) this.child = undefined;
    this.outgoing = [];
    if (this.pending.size === 0) return;
    if (!this.closed) this.log?.warn({ code, signal }, "tend's process spawner exited; a new one starts with the next command");
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      for (const answer of pending.signals.splice(0)) answer(false);
      const identity = pending.identity;
      if (identity === undefined) {
        pending.rejectStarted(new LaunchError("tend's process spawner exited before the command started"));
        pending.resolveExited({ exit: { code: null, signal: null, note: 'it never started' } });
        continue;
      }
      void waitExit(identity, Number.MAX_SAFE_INTEGER, ORPHAN_EXIT_POLL_MS).then(() =>
        pending.resolveExited({ exit: { code: null, signal: null, note: ORPHAN_EXIT_NOTE } }),
      );
    }
  }
}
