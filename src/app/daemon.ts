/**
 * The one place that wires tend together: state directory, store, engine, HTTP server.
 * `startDaemon` is what `tend daemon` runs, and what in-process tests run.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { buildServer } from '../api/server.js';
import { browserUrl, Dashboard } from '../dashboard/dashboard.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { StateLayout } from '../domain/state-layout.js';
import { ExecutionEngine } from '../engine/executions/execution-engine.js';
import { ServiceEngine } from '../engine/services/service-engine.js';
import { DEFAULT_PROBE_TIMINGS } from '../engine/services/ready-probing.js';
import {
  DEFAULT_MAX_EXECUTIONS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_TASK_STOP_TIMEOUT_MS,
  type EngineParts,
  type EngineSettings,
} from '../engine/settings.js';
import { TaskEngine } from '../engine/tasks/task-engine.js';
import { Automations } from '../engine/automations.js';
import { ResourceEvents } from '../engine/resource-events.js';
import { revertRefusedWrites } from '../engine/refused-writes.js';
import { LogRotator } from '../runtime/log-rotation.js';
import { Store } from '../store/store.js';
import { daemonBaseEnv } from './base-env.js';
import { daemonRole } from './daemon-role.js';
import { createLogger } from './logger.js';
import { DEFAULT_LISTEN, DEFAULT_SHUTDOWN_FLUSH_MS, parseListen, type Daemon, type DaemonOptions } from './daemon-options.js';
import { daemonStatus } from './daemon-status.js';
import { installGitpodCommands } from './gitpod-commands.js';
import { portMethods, type DaemonMethod } from '../api/port-methods.js';
import { PortRegistry } from '../engine/ports.js';
import { listeningSockets } from '../runtime/machine/listening-sockets.js';
import { defaultShell, resolveShell } from '../runtime/machine/shell.js';
import { Spawner } from '../runtime/machine/spawner.js';
import { lockStateDir, selfIdentity } from './instance-lock.js';
import { runnerSubject, userSubject } from '../domain/subjects.js';
import type { Subject } from '../domain/schema.js';
import {
  ensureStateDir,
  loadOrCreateId,
  readDaemonInfo,
  loadOrCreateToken,
  removeDaemonInfo,
  stateFile,
  writeDaemonInfo,
  type DaemonInfo,
} from './state-dir.js';

/** The shell a `--shell` setting names (a path, or a name on PATH); throws with the reason. */
export { resolveShell };

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger({});
  const stateDir = resolve(options.stateDir);
  ensureStateDir(stateDir);
  // Before anything else touches the state: a second daemon would run every service twice.
  const unlock = lockStateDir(stateDir, (pid) => {
    const info = readDaemonInfo(stateDir);
    return info !== undefined && info.pid === pid ? `pid ${pid}, ${info.url}` : `pid ${pid}`;
  });
  if (options.serveOnly === true && options.controlPlane !== undefined) {
    unlock();
    throw new Error('A daemon is either serve-only (a control plane) or a runner of a control plane, not both');
  }
  if (options.controlPlane !== undefined && (options.automationsFile !== undefined || (options.startTriggers ?? []).length > 0)) {
    unlock();
    throw new Error('A runner takes what runs from its control plane: give the automations file and triggers to the control plane');
  }
  let store: Store;
  let token: string;
  let runnerToken: string | undefined;
  let subjects: { token: Subject; runnerToken?: Subject };
  try {
    token = options.token ?? loadOrCreateToken(stateDir, env.TEND_TOKEN);
    subjects = { token: userSubject(loadOrCreateId(stateFile.ownerId(stateDir))) };
    if (options.serveOnly === true) {
      runnerToken = options.runnerToken ?? loadOrCreateToken(stateDir, env.TEND_RUNNER_TOKEN, stateFile.runnerToken(stateDir));
      subjects.runnerToken = runnerSubject(loadOrCreateId(stateFile.runnerId(stateDir)));
    }
    store = new Store(stateFile.store(stateDir));
  } catch (error) {
    unlock();
    throw error;
  }
  const environmentId = store.environmentId(options.environmentId ?? env.GITPOD_ENVIRONMENT_ID);
  const { host, port } = parseListen(options.listen ?? DEFAULT_LISTEN);
  const instanceId = randomUUID();

  let baseUrl = '';
  const clock: Clock = options.clock ?? systemClock;
  const logs = new LogRotator(options.maxLogBytes);
  const layout = new StateLayout(stateDir);
  // What tend gives every command before the spec's own env: the daemon's API, as Ona gives its
  // environment's (the URL and the API token are added once the server listens, before anything runs).
  const commandEnv: Record<string, string> = { GITPOD_ENVIRONMENT_ID: environmentId };
  const shell = options.shell ?? defaultShell(env.PATH);
  const settings: EngineSettings = {
    workspace: resolve(options.workspace),
    layout,
    stopTimeoutMs: options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    taskStopTimeoutMs: options.taskStopTimeoutMs ?? DEFAULT_TASK_STOP_TIMEOUT_MS,
    maxExecutions: options.maxExecutions ?? DEFAULT_MAX_EXECUTIONS,
    probe: { ...DEFAULT_PROBE_TIMINGS, ...options.probe },
    readinessTimeoutMs: options.readinessTimeoutMs ?? 0,
    commandEnv,
  };
  const engineLog = log.child({ component: 'engine' });
  const spawner = new Spawner(undefined, engineLog);
  // Its Node.js starts beside the rest of the daemon's start-up (on the other core), ready before the first command.
  if (options.serveOnly !== true) spawner.warm();
  const parts: Omit<EngineParts, 'runtime'> = { settings, clock, store, log: engineLog, logUrl: (logId) => `${baseUrl}/logs/${logId}` };
  const role = daemonRole(options.serveOnly === true ? 'serve-only' : 'executing', {
    parts,
    instanceId,
    baseEnv: daemonBaseEnv(env),
    logs,
    shell,
    spawner,
    ...(options.serveOnly === true ? {} : { binDir: installGitpodCommands(layout) }),
  });
  const services = new ServiceEngine({ store, log: engineLog, environmentId, keepers: role.services });
  const tasks = new TaskEngine({ store, services, log: log.child({ component: 'tasks' }), environmentId });
  const executions = new ExecutionEngine({
    store,
    tasks,
    layout: settings.layout,
    environmentId,
    maxExecutions: settings.maxExecutions,
    logUrl: parts.logUrl,
    keepers: role.executions(services),
  });

  const stopRetrying = revertRefusedWrites(store, { services, tasks, executions }, log.child({ component: 'store' }));

  const controlPlane =
    options.controlPlane === undefined
      ? undefined
      : // Loaded only in runner mode, and the watcher (chokidar) only with a file to watch.
        new (await import('../upstream/control-plane.js')).ControlPlane(options.controlPlane, { store, services, tasks, executions, environmentId, clock, log: log.child({ component: 'control-plane' }) });
  const automations = new Automations(services, tasks, executions, store, log.child({ component: 'automations' }));
  const watcher =
    options.automationsFile === undefined
      ? undefined
      : new (await import('./automations-watcher.js')).AutomationsWatcher(options.automationsFile, automations, log.child({ component: 'automations' }), options.reloadDebounceMs, clock);
  const ports = new PortRegistry({
    store,
    clock,
    listeners: listeningSockets,
    serviceOfRun: (runId) => {
      const id = role.serviceOfRun(runId);
      return id === undefined || !services.has(id) ? undefined : { id, reference: services.get(id).metadata.reference ?? id };
    },
    portsOfRun: (runId) => role.portsOfRun(runId),
    foundPorts: () => role.foundPorts(),
    reference: (id) => (services.has(id) ? (services.get(id).metadata.reference ?? id) : undefined),
    holder: (port) => role.portHolder(port),
  });
  const status = () =>
    daemonStatus({
      daemon: () => ({ url: baseUrl, pid: process.pid, environmentId, workspace: settings.workspace, stateDir }),
      mode: controlPlane !== undefined ? 'runner' : options.serveOnly === true ? 'serve-only' : 'standalone',
      shell: options.serveOnly === true ? null : shell,
      watcher,
      controlPlane,
      automations,
      services,
      waiting: () => role.waiting(),
      processes: () => role.processes(),
      ports,
    });
  const events = new ResourceEvents(services, tasks, executions);
  const dashboard = new Dashboard({
    ...options.dashboard,
    token,
    url: () => browserUrl(baseUrl),
    events,
    services,
    executions,
    status,
    clock,
    log: log.child({ component: 'dashboard' }),
  });
  watcher?.on('status', () => dashboard.statusChanged());
  const server = buildServer({
    token,
    subjects,
    ...(options.serverLimits !== undefined ? { limits: options.serverLimits } : {}),
    ...(runnerToken !== undefined ? { runnerToken } : {}),
    ...(controlPlane !== undefined ? { forward: (service: string, method: string, body: unknown) => controlPlane.forward(service, method, body) } : {}),
    services,
    tasks,
    executions,
    automations,
    events,
    environmentId,
    status,
    // A port opened or closed shows on the dashboard at once (GetStatus lists the ports).
    daemonMethods: thenNotify(portMethods(ports), () => dashboard.statusChanged()),
    committed: () => store.committed(),
    launched: () => role.launched(),
    log,
    front: dashboard,
  });
  try {
    await server.listen({ host, port });
  } catch (error) {
    spawner.close();
    store.close();
    unlock();
    throw error;
  }
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('The server has no TCP address');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${urlHost}:${address.port}`;
  commandEnv.GITPOD_BASE_URL = baseUrl;
  commandEnv.GITPOD_API_KEY = token;
  await services.load();
  tasks.load();
  await executions.load();
  await role.recovered();
  dashboard.started();
  await watcher?.start();
  if (controlPlane !== undefined) {
    controlPlane.start();
  } else if (options.startTriggers !== undefined && options.startTriggers.length > 0) {
    automations.fire(options.startTriggers);
  }

  const { startTime, bootId } = selfIdentity();
  const info: DaemonInfo = { url: baseUrl, pid: process.pid, environmentId, startTime, bootId };
  // daemon.json announces a daemon whose start-up state (recovery, instance markers) is on disk.
  await store.committed();
  writeDaemonInfo(stateDir, info);
  log.info({ url: baseUrl, stateDir, environmentId, workspace: settings.workspace, shell }, 'Daemon listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('Daemon stopping: stopping every task execution and service');
      await watcher?.close();
      await controlPlane?.stopFollowing();
      await Promise.all([executions.shutdown(), services.shutdown()]);
      await controlPlane?.close(options.shutdownFlushMs ?? DEFAULT_SHUTDOWN_FLUSH_MS);
      dashboard.close();
      await server.close();
      logs.close();
      spawner.close();
      stopRetrying();
      removeDaemonInfo(stateDir);
      store.close();
      unlock();
      log.info('Daemon stopped');
    })();
    return stopping;
  };
  return { info, instanceId, token, runnerToken, services, tasks, executions, automations, watcher, store, controlPlane, ports, stop };
}

/** The methods, each followed by `notify` once it has answered. */
function thenNotify(methods: Readonly<Record<string, DaemonMethod>>, notify: () => void): Record<string, DaemonMethod> {
  return Object.fromEntries(
    Object.entries(methods).map(([name, method]) => [
      name,
      async (body: unknown) => {
        const answer = await method(body);
        notify();
        return answer;
      },
    ]),
  );
}
