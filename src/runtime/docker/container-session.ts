/**
 * A session in a container. Signals go to the container's init (which forwards them to the
 * command), ready and stop commands run inside it (`docker exec`); host pids are never signalled.
 */
import type { Clock } from '../../domain/clock.js';
import type { ExitInfo } from '../../domain/service-lifecycle.js';
import type { ListeningPort, ProbeRun, Session, SessionRecord, StopRules } from '../runtime.js';
import { listeningSocketsOf } from '../machine/listening-sockets.js';
import { processTree } from '../machine/proc-scan.js';
import { applyStopRules, type Stoppable } from '../stop-rules.js';
import { signalContainer, startExec } from './engine-client.js';

const TAIL_LINES = 10;

export class ContainerSession implements Session {
  constructor(
    readonly record: SessionRecord & { readonly container: string },
    readonly exited: Promise<ExitInfo>,
    /** The variables of the session's commands (the image brings its own PATH, HOME, ...). */
    private readonly env: Readonly<Record<string, string>>,
    private readonly clock: Clock,
  ) {}

  probe(command: string): ProbeRun {
    let cancelled = false;
    const started = startExec(this.record.container, command, this.env);
    const result = started.then(
      async (exec) => {
        if (cancelled) exec.cancel();
        const exit = await exec.exited;
        return { ok: exit.code === 0, output: exec.output(), code: exit.code };
      },
      (error: unknown) => ({ ok: false, output: (error as Error).message, code: null }),
    );
    return {
      result,
      kill: () => {
        cancelled = true;
        void started.then((exec) => exec.cancel(), () => {});
      },
    };
  }

  stop(rules: StopRules): Promise<string | null> {
    const id = this.record.container;
    const target: Stoppable = {
      terminate: () => signalContainer(id, 'SIGTERM'),
      gone: async () => {
        await this.exited;
      },
      kill: async () => {
        await signalContainer(id, 'SIGKILL');
        await this.exited;
      },
      // The stop command dies with the container, which kill() ends.
      runStopCommand: async (command) => {
        const exec = await startExec(id, command, this.env, this.record.logPath);
        return { exited: exec.exited, tail: () => exec.output().split('\n').slice(-TAIL_LINES).join('\n') };
      },
    };
    return applyStopRules(target, rules, this.clock);
  }

  /** On the host network, the container's processes (its init's tree, as the host sees them) hold its sockets. */
  async listeningPorts(): Promise<ListeningPort[]> {
    const tree = await processTree(this.record.identity);
    return listeningSocketsOf(tree.map((process) => process.pid));
  }

  async killLeftovers(): Promise<void> {
    await signalContainer(this.record.container, 'SIGKILL');
  }
}
