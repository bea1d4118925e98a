/**
 * The Docker Engine API, as tend uses it (dockerode; DOCKER_HOST or the default socket): a
 * container of the image running the command with the image's bash, else its `/bin/sh`
 * (`imageShell`), on the host network, with the workspace mounted at
 * the same path as its working directory, an init process so signals reach the command, and
 * labels that name the daemon instance, the state directory, the resource and the run. The
 * container's output is demultiplexed into the same log file a machine command writes.
 * Failures (image absent and not pullable, engine unreachable) are thrown as DockerError with the
 * engine's own words.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { ExitInfo } from '../../domain/service-lifecycle.js';

export const LABEL_INSTANCE = 'dev.tend.instance';
export const LABEL_STATE_DIR = 'dev.tend.state-dir';
export const LABEL_RESOURCE = 'dev.tend.resource';
/** The client's session string, for people; nothing is found by it. */
export const LABEL_SESSION = 'dev.tend.session';
/** The run id tend made: how a restarted daemon recognises its container. */
export const LABEL_RUN = 'dev.tend.run';

export class DockerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DockerError';
  }
}

function engineWords(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  if (json?.message !== undefined) return json.message;
  const reason = (error as { reason?: string; message?: string }).message ?? String(error);
  return reason.replace(/^\(HTTP code \d+\) [a-z ]+ - /i, '');
}

const clients = new Map<string, Docker>();

/**
 * How a command runs in a container (its start, ready and stop commands alike): with bash when
 * the image has it (real automations files use bash syntax), else with its `/bin/sh`. The image
 * is not inspected: its own `/bin/sh` asks for bash and `exec`s one or the other, so the shell
 * that runs the command is the container's init's only child and gets its signals.
 */
export function imageShell(command: string): string[] {
  return ['/bin/sh', '-c', 'command -v bash >/dev/null 2>&1 && exec bash -c "$1"; exec /bin/sh -c "$1"', 'sh', command];
}

/**
 * The Engine API client for DOCKER_HOST as it is now (or /var/run/docker.sock). dockerode (and
 * what it brings: ssh2, protobufjs) is loaded on first use, so a daemon without containers does
 * not carry it.
 */
export async function docker(): Promise<Docker> {
  const host = process.env.DOCKER_HOST ?? '';
  let client = clients.get(host);
  if (client === undefined) {
    const { default: Dockerode } = await import('dockerode');
    client = new Dockerode();
    clients.set(host, client);
  }
  return client;
}

export interface ContainerSpec {
  readonly image: string;
  /** `KEY=VALUE` entries of runsOn.docker.environment. */
  readonly environment: readonly string[];
  readonly command: string;
  readonly workspace: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logPath: string;
  /** Host directories mounted at the same path (the workspace, tend's outputs directory). */
  readonly mounts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface RunningContainer {
  readonly id: string;
  /** The container's init process as the host sees it. */
  readonly hostPid: number;
  readonly exited: Promise<ExitInfo>;
}

async function ensureImage(engine: Docker, image: string): Promise<void> {
  try {
    await engine.getImage(image).inspect();
    return;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw new DockerError(`Docker engine: ${engineWords(error)}`, { cause: error });
  }
  try {
    const stream = await engine.pull(image);
    await new Promise<void>((resolve, reject) =>
      engine.modem.followProgress(stream, (error: Error | null) => (error === null ? resolve() : reject(error))),
    );
  } catch (error) {
    throw new DockerError(`Image "${image}" is not present and cannot be pulled: ${engineWords(error)}`, { cause: error });
  }
}

/**
 * Appends a container's multiplexed output stream (stdout and stderr) to the log file; the promise
 * resolves once the stream has ended and the file is closed.
 */
function appendToLog(container: Docker.Container, stream: NodeJS.ReadableStream, logPath: string): Promise<void> {
  mkdirSync(dirname(logPath), { recursive: true, mode: 0o700 });
  const file = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  const out = new PassThrough();
  out.pipe(file);
  container.modem.demuxStream(stream, out, out);
  return new Promise<void>((resolve) => {
    stream.once('end', () => {
      out.end();
      file.once('close', () => resolve());
    });
  });
}

/** Waits for the container's end, lets its output drain, removes it, and says how it ended. */
async function awaitEnd(container: Docker.Container, drained: Promise<void>): Promise<ExitInfo> {
  let code: number | null = null;
  try {
    code = ((await container.wait()) as { StatusCode: number }).StatusCode;
  } catch {
    // The engine went away or the container was removed from outside: exit unknown.
  }
  await drained;
  await container.remove({ force: true }).catch(() => {});
  return exitOf(code);
}

export async function runContainer(spec: ContainerSpec): Promise<RunningContainer> {
  const engine = await docker();
  try {
    await engine.ping();
  } catch (error) {
    throw new DockerError(`Docker engine unreachable (${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}): ${engineWords(error)}`, { cause: error });
  }
  await ensureImage(engine, spec.image);
  let container: Docker.Container;
  try {
    container = await engine.createContainer({
      Image: spec.image,
      Cmd: imageShell(spec.command),
      Env: [...spec.environment, ...Object.entries(spec.env).map(([name, value]) => `${name}=${value}`)],
      WorkingDir: spec.workspace,
      Labels: { ...spec.labels },
      HostConfig: {
        NetworkMode: 'host',
        Init: true,
        Binds: [...new Set(spec.mounts)].map((path) => `${path}:${path}`),
      },
    });
  } catch (error) {
    throw new DockerError(`Cannot create a container of "${spec.image}": ${engineWords(error)}`, { cause: error });
  }
  // Attached before the start, so that no output is missed.
  const output = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
  const drained = appendToLog(container, output, spec.logPath);
  try {
    await container.start();
  } catch (error) {
    await container.remove({ force: true }).catch(() => {});
    throw new DockerError(`Cannot start the container: ${engineWords(error)}`, { cause: error });
  }
  const info = await container.inspect();
  return { id: container.id, hostPid: info.State.Pid, exited: awaitEnd(container, drained) };
}

function signalName(number: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 15: 'SIGTERM' };
  return names[number] ?? `signal ${number}`;
}

/** What `wait` says, as an exit: 128 + n is signal n, as the engine reports a killed command. */
function exitOf(code: number | null): ExitInfo {
  if (code !== null && code > 128 && code < 160) return { code: null, signal: signalName(code - 128) };
  return { code, signal: null };
}

/**
 * Takes over a running container that a dead daemon started: its output from `sinceSeconds` on
 * (the engine kept it meanwhile) is appended to the log file again, its exit is awaited (with its
 * exit code: the engine knows it), and it is removed once it ended.
 */
export async function adoptContainer(id: string, logPath: string, sinceSeconds: number): Promise<{ exited: Promise<ExitInfo> }> {
  const container = (await docker()).getContainer(id);
  const output = (await container.logs({ follow: true, stdout: true, stderr: true, since: sinceSeconds })) as unknown as NodeJS.ReadableStream;
  return { exited: awaitEnd(container, appendToLog(container, output, logPath)) };
}

/** A command running inside a container (`docker exec`). */
export interface ContainerExec {
  /** Resolves once the command ended; its exit code is unknown (null) when it was cancelled. */
  readonly exited: Promise<ExitInfo>;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  /** Stops waiting for it: its stream is closed and `exited` resolves with an unknown code. */
  cancel(): void;
}

/** Starts a command inside a running container; its output also goes to `logPath` when given. */
export async function startExec(id: string, command: string, env: Readonly<Record<string, string>>, logPath?: string): Promise<ContainerExec> {
  const container = (await docker()).getContainer(id);
  const exec = await container.exec({
    Cmd: imageShell(command),
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const file = logPath !== undefined ? createWriteStream(logPath, { flags: 'a', mode: 0o600 }) : undefined;
  if (file !== undefined) sink.pipe(file);
  container.modem.demuxStream(stream, sink, sink);
  let cancelled = false;
  let settled = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    const settle = (): void => {
      if (settled) return;
      settled = true;
      sink.end();
      if (cancelled) return resolve({ code: null, signal: null });
      exec.inspect().then(
        (inspected) => resolve({ code: inspected.ExitCode ?? null, signal: null }),
        () => resolve({ code: null, signal: null }),
      );
    };
    stream.once('end', settle);
    stream.once('close', settle);
  });
  return {
    exited,
    output: () => Buffer.concat(chunks).toString('utf8'),
    cancel: () => {
      cancelled = true;
      stream.destroy();
    },
  };
}

/** What the engine says of one container, or null when it has none of this id. */
export async function inspectContainer(id: string): Promise<{ running: boolean; labels: Record<string, string> } | null> {
  try {
    const info = await (await docker()).getContainer(id).inspect();
    return { running: info.State.Running === true, labels: info.Config.Labels ?? {} };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw new DockerError(`Docker engine: ${engineWords(error)}`, { cause: error });
  }
}

/** Sends a signal to the container's init (which forwards it to the command); ignores a gone one. */
export async function signalContainer(id: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  try {
    await (await docker()).getContainer(id).kill({ signal });
  } catch {
    // already stopped or removed
  }
}

/** Containers this daemon's state directory started (found by label), running or not. */
export async function ownedContainers(stateDir: string): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
  const list = await (await docker()).listContainers({ all: true, filters: { label: [`${LABEL_STATE_DIR}=${stateDir}`] } });
  return list.map((entry) => ({ id: entry.Id, labels: entry.Labels, running: entry.State === 'running' }));
}

export async function removeContainer(id: string): Promise<void> {
  await (await docker())
    .getContainer(id)
    .remove({ force: true })
    .catch(() => {});
}
