/** A session on this machine: its process group and escaped descendants, found by its marker. */
import type { Clock } from '../../domain/clock.js';
import type { ExitInfo } from '../../domain/service-lifecycle.js';
import { readLogTail } from '../log-tail.js';
import type { ProbeRun, Session, SessionRecord, StopRules } from '../runtime.js';
import { applyStopRules, type Stoppable } from '../stop-rules.js';
import { runProbeProcess } from './probe-process.js';
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

  stop(rules: StopRules): Promise<string | null> {
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

  killLeftovers(): Promise<void> {
    return killSession(this.processes.target);
  }
}
