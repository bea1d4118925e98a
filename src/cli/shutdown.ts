/**
 * How a foreground `tend up` ends, as docker compose's does. The first Ctrl-C (SIGINT, or the
 * TUI's `q`/Ctrl-C), SIGTERM or SIGHUP (the terminal closed) asks the daemon to stop everything
 * by the stop rules (SIGTERM to the daemon) and waits until it has exited: exit 0. A second one
 * forces: SIGKILL to every process the daemon's runs have left (found by the instance marker its
 * commands carry), again until the daemon has exited (it sees its services end and stops at once):
 * exit 130. A daemon that does not exit after that is killed too.
 */
import { findOrphans } from '../app/orphans.js';
import { daemonRunning, type DaemonInfo } from '../app/state-dir.js';
import { daemonExited } from './state-dir-wait.js';

export type ShutdownPhase = 'running' | 'stopping' | 'forcing';

/** What a forced stop waits for the daemon to exit by itself before it is killed too. */
const FORCED_DAEMON_EXIT_MS = 5_000;
/** How often a forced stop kills again what the daemon's runs have left. */
const POLL_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone meanwhile.
  }
}

export class Shutdown {
  phase: ShutdownPhase = 'running';
  /** Resolves with the exit code once the daemon has exited after a stop was asked for. */
  readonly done: Promise<number>;
  private finish!: (code: number) => void;
  private readonly signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  /** Ends the wait of the stop by the rules: the forced stop waits its own way. */
  private readonly forcing = new AbortController();

  constructor(
    private readonly daemon: { readonly info: DaemonInfo; readonly stateDir: string },
    /** Says a line to the user (the stream, or the TUI's status line). */
    private readonly say: (line: string) => void,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Takes over Ctrl-C, SIGTERM and SIGHUP for as long as the foreground runs. */
  listen(): this {
    for (const signal of this.signals) process.on(signal, this.request);
    return this;
  }

  release(): void {
    for (const signal of this.signals) process.off(signal, this.request);
  }

  /** A stop was asked for (a signal, a key): the first stops by the rules, the second forces. */
  readonly request = (): void => {
    if (this.phase === 'running') {
      this.phase = 'stopping';
      this.say('tend: stopping everything by the stop rules (Ctrl-C again forces)');
      void this.stop();
    } else if (this.phase === 'stopping') {
      this.phase = 'forcing';
      this.forcing.abort();
      void this.force();
    }
  };

  private async stop(): Promise<void> {
    const { info, stateDir } = this.daemon;
    sendSignal(info.pid, 'SIGTERM');
    await daemonExited(stateDir, info, { signal: this.forcing.signal });
    if (this.phase === 'stopping') this.finish(0);
  }

  private async force(): Promise<void> {
    const { info } = this.daemon;
    const left = findOrphans(this.daemon.stateDir);
    this.say(`tend: forcing: SIGKILL to the ${left.length} process${left.length === 1 ? '' : 'es'} left${left.length === 0 ? '' : ` (pid ${left.slice(0, 10).map((process) => process.pid).join(', ')}${left.length > 10 ? ', …' : ''})`}`);
    const deadline = Date.now() + FORCED_DAEMON_EXIT_MS;
    // Again until the daemon has exited: a stop command it runs meanwhile is one of them too.
    while (daemonRunning(info) && Date.now() < deadline) {
      for (const process of findOrphans(this.daemon.stateDir)) sendSignal(process.pid, 'SIGKILL');
      await sleep(POLL_MS);
    }
    if (daemonRunning(info)) sendSignal(info.pid, 'SIGKILL');
    await daemonExited(this.daemon.stateDir, info);
    for (const process of findOrphans(this.daemon.stateDir)) sendSignal(process.pid, 'SIGKILL');
    this.finish(130);
  }
}
