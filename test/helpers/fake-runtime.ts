/**
 * A Runtime that runs nothing, for tests of the engine's policy: sessions are objects whose
 * probes, exits and answers to signals a test decides. Its sessions go through the real stop
 * rules (`runtime/stop-rules.ts`), with primitives that record what was done and when.
 */
import type { Clock } from '../../src/domain/clock.js';
import type { ExitInfo } from '../../src/domain/service-lifecycle.js';
import { applyStopRules } from '../../src/runtime/stop-rules.js';
import {
  LaunchError,
  type AdoptResult,
  type ListeningPort,
  type PortHolder,
  type ProbeResult,
  type ProbeRun,
  type Runtime,
  type Session,
  type SessionRecord,
  type SessionSpec,
  type StopRules,
  type SweepResult,
} from '../../src/runtime/runtime.js';

let pids = 5000;

export interface Recorded {
  readonly what: string;
  /** On the test's clock, in elapsed milliseconds. */
  readonly at: number;
}

export class FakeSession implements Session {
  readonly record: SessionRecord;
  readonly exited: Promise<ExitInfo>;
  /** Probes so far, each with when it began. */
  readonly probes: Recorded[] = [];
  /** Signals and stop commands, with when. */
  readonly actions: Recorded[] = [];
  /** What the next probe answers; 'hang' never answers until killed. */
  answer: () => ProbeResult | 'hang' = () => ({ ok: false, output: 'not yet', code: 1 });
  /** Ignore SIGTERM (a process that must be killed). */
  ignoresTerm = false;
  /** How a stop command ends; 'hang' never does. */
  stopCommandExit: ExitInfo | 'hang' = { code: 0, signal: null };
  private resolveExit!: (exit: ExitInfo) => void;
  private ended = false;
  /** The session a restarted daemon adopted this one as: the dead daemon hears nothing more. */
  private successor: FakeSession | null = null;

  constructor(
    readonly spec: SessionSpec,
    private readonly clock: Clock & { elapsed: number },
    record?: SessionRecord,
  ) {
    const pid = ++pids;
    this.record = record ?? { runId: spec.runId, identity: { pid, pgid: pid, startTime: String(pid), bootId: 'fake' }, logPath: spec.logPath };
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get alive(): boolean {
    return this.successor?.alive ?? !this.ended;
  }

  handOver(successor: FakeSession): void {
    this.successor = successor;
  }

  /** The command ends (by itself, or as a signal made it). */
  exit(exit: ExitInfo): void {
    if (this.successor !== null) return this.successor.exit(exit);
    if (this.ended) return;
    this.ended = true;
    this.resolveExit(exit);
  }

  probe(command: string): ProbeRun {
    this.probes.push({ what: command, at: this.clock.elapsed });
    const answer = this.answer();
    let kill = (): void => {};
    const result =
      answer === 'hang' ? new Promise<ProbeResult>((resolve) => (kill = () => resolve({ ok: false, output: 'killed', code: null }))) : Promise.resolve(answer);
    return { result, kill: () => kill() };
  }

  stop(rules: StopRules): Promise<string | null> {
    const record = (what: string): void => {
      this.actions.push({ what, at: this.clock.elapsed });
    };
    return applyStopRules(
      {
        terminate: async () => {
          record('SIGTERM');
          if (!this.ignoresTerm) this.exit({ code: null, signal: 'SIGTERM' });
        },
        gone: async () => {
          await this.exited;
        },
        kill: async () => {
          record('SIGKILL');
          this.exit({ code: null, signal: 'SIGKILL' });
        },
        runStopCommand: async (command) => {
          record(`stop command: ${command}`);
          const end = this.stopCommandExit;
          return { exited: end === 'hang' ? new Promise<ExitInfo>(() => {}) : Promise.resolve(end), tail: () => 'stop output' };
        },
      },
      rules,
      this.clock,
    );
  }

  async killLeftovers(): Promise<void> {
    this.actions.push({ what: 'killLeftovers', at: this.clock.elapsed });
  }

  /** The ports a test says it listens on. */
  ports: ListeningPort[] = [];

  async listeningPorts(): Promise<ListeningPort[]> {
    return this.ports;
  }
}

export class FakeRuntime implements Runtime {
  readonly sessions: FakeSession[] = [];
  /** Sessions a "previous daemon" left, by run id: adopt() finds them. */
  readonly survivors = new Map<string, FakeSession>();
  /** Set to make the next start fail with this message. */
  failNext: string | null = null;
  sweeps = 0;
  /** While set, starts wait until it resolves (a launch in flight, as a slow container's). */
  startGate: Promise<void> | null = null;

  constructor(private readonly clock: Clock & { elapsed: number }) {}

  async start(spec: SessionSpec): Promise<Session> {
    if (this.startGate !== null) await this.startGate;
    if (this.failNext !== null) {
      const message = this.failNext;
      this.failNext = null;
      throw new LaunchError(message);
    }
    const session = new FakeSession(spec, this.clock);
    this.sessions.push(session);
    return session;
  }

  async adopt(record: SessionRecord, spec: SessionSpec): Promise<AdoptResult> {
    const survivor = this.survivors.get(record.runId);
    if (survivor === undefined || !survivor.alive) return { lost: 'its process is gone' };
    const session = new FakeSession(spec, this.clock, record);
    survivor.handOver(session);
    this.sessions.push(session);
    return { session };
  }

  listeningSockets(): ListeningPort[] {
    return this.sessions.filter((session) => session.alive).flatMap((session) => session.ports);
  }

  async portHolder(): Promise<PortHolder | null> {
    return null;
  }

  async sweep(): Promise<SweepResult> {
    this.sweeps += 1;
    return { instancesInUse: [] };
  }

  /** The sessions started for the run ids of the spec. */
  last(): FakeSession {
    const session = this.sessions.at(-1);
    if (session === undefined) throw new Error('No session was started');
    return session;
  }
}
