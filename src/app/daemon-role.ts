/**
 * The daemon's role, chosen once here: a daemon that runs its services and tasks (standalone, or a
 * runner of a control plane) gives the engines controllers and runners working through the
 * runtime; a serve-only daemon (a control plane) gives them keepers of reported statuses. The
 * engines, controllers and runners never ask which role they are in.
 */
import type { ServiceKeepers } from '../engine/services/service-keeper.js';
import type { ExecutionKeepers } from '../engine/executions/execution-keeper.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { ReadinessWait } from '../engine/services/ready-probing.js';
import type { ProcessIdentity } from '../domain/service-lifecycle.js';
import type { EngineParts } from '../engine/settings.js';
import { ServiceControllers } from '../engine/services/service-controllers.js';
import { ReportedServices } from '../engine/services/reported-service.js';
import { ExecutionRunners } from '../engine/executions/execution-runners.js';
import { ReportedExecutions } from '../engine/executions/reported-execution.js';
import { Recovery } from '../engine/recovery.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import type { LogRotator } from '../runtime/log-rotation.js';
import { MachineRuntime } from '../runtime/machine/machine-runtime.js';
import { RoutingRuntime } from '../runtime/routing-runtime.js';
import { Spawner } from '../runtime/machine/spawner.js';
import type { ListeningPort, PortHolder, Runtime } from '../runtime/runtime.js';
import { portHolder } from '../runtime/machine/listening-sockets.js';
import type { FoundPorts } from '../engine/services/service-controllers.js';

export interface DaemonRole {
  readonly services: ServiceKeepers;
  executions(services: ServiceEngine): ExecutionKeepers;
  /** Every stored resource is loaded: what previous daemons left and nobody adopted goes. */
  recovered(): Promise<void>;
  /** The services waiting for their ready command, and what each waits for (none when serve-only). */
  waiting(): Array<{ readonly serviceId: string; readonly wait: ReadinessWait }>;
  /** The process of each service whose session runs (none when serve-only). */
  processes(): Array<{ readonly serviceId: string; readonly process: ProcessIdentity }>;
  /** The service a run id belongs to (a command names its run by TEND_SESSION_ID), if any. */
  serviceOfRun(runId: string): string | undefined;
  /** The ports the current run of a run's service listens on (undefined: the run is no service's). */
  portsOfRun(runId: string): Promise<readonly ListeningPort[] | undefined>;
  /** The ports each running service's processes listen on (none when serve-only: nothing runs here). */
  foundPorts(): Promise<readonly FoundPorts[]>;
  /** Who holds the socket listening on a port on this machine. */
  portHolder(port: number): Promise<PortHolder | null>;
  /** Resolves once every command start begun so far has its process (or failed). */
  launched(): Promise<void>;
}

export interface RoleParts {
  readonly parts: Omit<EngineParts, 'runtime'>;
  readonly instanceId: string;
  /** The environment of every command on the machine, before its own variables. */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly logs: LogRotator;
  /** Runs every command on the machine (`shell -c command`): bash, else /bin/sh, or `--shell`. */
  readonly shell: string;
  /** First on every machine command's PATH: tend's `gitpod` and `ona` commands. */
  readonly binDir?: string;
  /** Replaces where commands run (tests of policy use a FakeRuntime). */
  readonly runtime?: Runtime;
  /** Forks the machine's commands (the daemon's spawner process); needed unless `runtime` is given. */
  readonly spawner?: Spawner;
}

export function daemonRole(role: 'executing' | 'serve-only', options: RoleParts): DaemonRole {
  const { parts, instanceId } = options;
  if (role === 'serve-only') {
    return {
      services: new ReportedServices(parts),
      executions: () => new ReportedExecutions(parts.store, parts.settings.layout),
      recovered: async () => {},
      waiting: () => [],
      processes: () => [],
      serviceOfRun: () => undefined,
      portsOfRun: async () => undefined,
      foundPorts: async () => [],
      portHolder: async (port) => portHolder(port),
      launched: async () => {},
    };
  }
  let docker: DockerRuntime | undefined;
  const runtime =
    options.runtime ??
    new RoutingRuntime(
      new MachineRuntime({
        baseEnv: options.baseEnv,
        shell: options.shell,
        ...(options.binDir !== undefined ? { binDir: options.binDir } : {}),
        instanceId,
        clock: parts.clock,
        logs: options.logs,
        log: parts.log,
        spawner: options.spawner ?? new Spawner(),
      }),
      () => (docker ??= new DockerRuntime({ stateDir: parts.settings.layout.root, instanceId, clock: parts.clock, log: parts.log })),
    );
  const engineParts: EngineParts = { ...parts, runtime };
  const recovery = new Recovery(engineParts, instanceId);
  const controllers = new ServiceControllers(engineParts, recovery);
  return {
    services: controllers,
    executions: (services) => new ExecutionRunners(engineParts, services, recovery),
    recovered: async () => {
      await recovery.sweep();
      controllers.watchOutputs();
    },
    waiting: () => controllers.waiting(),
    processes: () => controllers.processes(),
    serviceOfRun: (runId) => controllers.serviceOfRun(runId),
    portsOfRun: (runId) => controllers.portsOfRun(runId),
    foundPorts: () => controllers.foundPorts(),
    portHolder: (port) => runtime.portHolder(port),
    launched: () => runtime.settled?.() ?? Promise.resolve(),
  };
}
