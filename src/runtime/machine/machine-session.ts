/** A session on this machine: its process group and escaped descendants, found by its marker. */
import type { ChildProcess } from 'node:child_process';
import type { Clock } from '../../domain/clock.js';
import type { ExitInfo } from '../../domain/service-lifecycle.js';
import { readLogTail } from '../log-tail.js';
import type { ProbeRun, Session, SessionRecord, StopRules } from '../runtime.js';
import { applyStopRules, type Stoppable } from '../stop-rules.js';
import { runProbeProcess } from './probe-process.js';
import { ProcError, sendSignal } from './proc.js';
import { spawnCommand } from './spawn-command.js';
import { killSession, SessionProcesses } from './terminate.js';

export class MachineSession implements Session {
  private readonly processes: SessionProcesses;

  constructor(
    readonly record: SessionRecord,
    readonly exited: Promise<ExitInfo>,
    /** The whole environment of the session's commands (the marker is added when spawning). */
    private readonly env: Readonly<Record<string, string>>,
    private readonly cwd: string,
    private readonly clock: Clock,
    /** Runs the ready and stop commands, as it ran the start command. */
    private readonly shell: string,
    /** Our own child (not a re-adopted process): its group can be killed even when /proc fails us. */
    private readonly child?: ChildProcess,
  ) {
    this.processes = new SessionProcesses({
      pgids: [record.identity.pgid],
      marker: record.runId,
      since: Number(record.identity.startTime),
    });
  }

  probe(command: string): ProbeRun {
    return runProbeProcess(command, this.shell, this.cwd, this.env, this.record.runId);
  }

  async stop(rules: StopRules): Promise<string | null> {
    try {
      return await this.applyStopRules(rules);
    } catch (error) {
      if (!(error instanceof ProcError)) throw error;
      return this.killOwnGroup(error);
    }
  }

  async killLeftovers(): Promise<void> {
    try {
      await killSession(this.processes.target);
    } catch (error) {
      if (!(error instanceof ProcError)) throw error;
      this.killOwnGroup(error);
    }
  }

  /**
   * /proc cannot be read: the session's members cannot be found. The start command is our unreaped
   * child, so its process group is still its own and can be killed by number; whatever left it
   * may remain, and the message says so.
   */
  private killOwnGroup(error: ProcError): string {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      sendSignal(-this.record.identity.pgid, 'SIGKILL');
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
        const spawned = spawnCommand({ command, shell: this.shell, cwd: this.cwd, env: this.env, logPath: record.logPath, marker: record.runId });
        return { exited: spawned.exited, tail: () => readLogTail(record.logPath) };
      },
    };
    return applyStopRules(target, rules, this.clock);
  }
}
