/**
 * The daemon's spawner: a small, long-lived Node.js process that starts every command of the
 * machine runtime for the daemon. A fork costs time in proportion to the forking process's memory
 * and blocks its thread until the child has exec'd; here it costs the spawner's few megabytes of
 * heap, on its own thread, while the daemon goes on serving. It imports nothing but Node's own
 * modules (spawner.ts is the daemon's side; the protocol is described there).
 *
 * Each command runs as before: in a new session and process group (`detached`), its output
 * opened on its log file (never a pipe through tend) or, for a ready probe, captured (its last
 * bytes). The spawner reaps its children and reports their exits, so exit codes stay known. When
 * the daemon goes away (its end of stdin closes, a crash included) the spawner exits at once and
 * leaves every command running: they are in sessions of their own, and the next daemon re-adopts
 * them as it would have without a spawner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { close, closeSync, mkdir, open, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface SpawnRequest {
  readonly op: 'spawn';
  readonly id: number;
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The id of an environment sent before (`op: 'env'`), and what this command adds to it. */
  readonly base?: number;
  readonly env: Readonly<Record<string, string>>;
  /** Output appended to this file; else captured, its last `capture` bytes reported at the exit. */
  readonly log?: string;
  readonly capture?: number;
  /** Made empty first (with its directory), its owner's only: the command's GITPOD_OUTPUT. */
  readonly output?: string;
  /** Its stdin and stdout are the daemon's, relayed: `{op: 'input'}` in, `{id, out}` back. */
  readonly relay?: boolean;
}

/** Written to a relayed child's stdin; `end` closes it. */
interface InputRequest {
  readonly op: 'input';
  readonly id: number;
  readonly data?: string;
  readonly end?: boolean;
}

interface SignalRequest {
  readonly op: 'signal';
  readonly id: number;
  readonly signal: NodeJS.Signals;
}

interface EnvRequest {
  readonly op: 'env';
  readonly id: number;
  readonly env: Readonly<Record<string, string>>;
}

/** Files that spawns to come will open (their logs, their GITPOD_OUTPUT): made now, empty. */
interface FilesRequest {
  readonly op: 'files';
  readonly paths: readonly string[];
}

type Request = SpawnRequest | SignalRequest | EnvRequest | InputRequest | FilesRequest;

const children = new Map<number, ChildProcess>();
const environments = new Map<number, Readonly<Record<string, string>>>();
let outgoing: string[] = [];

/** Messages of one turn of the event loop go out in one write. */
function send(message: object): void {
  if (outgoing.length === 0) setImmediate(flush);
  outgoing.push(JSON.stringify(message));
}

function flush(): void {
  const lines = outgoing;
  outgoing = [];
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

/** Field 22 of /proc/<pid>/stat (the start time), or '' when it cannot be read. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * A file opened for appending on libuv's threadpool (made, its owner's only, when missing): its
 * descriptor, or the error. Its directory is made only when the open finds it missing, so a step
 * whose execution already has a log directory takes one trip to the threadpool instead of three
 * (the directory's mkdir, the stat that finds it there, the open): in a chain of tasks the files
 * are on the way of every step.
 */
function openIn(path: string, done: (error: Error | null, fd?: number) => void): void {
  open(path, 'a', 0o600, (error, fd) => {
    if (error?.code !== 'ENOENT') return done(error, fd);
    mkdir(dirname(path), { recursive: true, mode: 0o700 }, (failed) => {
      if (failed !== null) return done(failed);
      open(path, 'a', 0o600, (again, made) => done(again, made));
    });
  });
}

/**
 * The files of a spawn, made while earlier requests are carried out: creating a file is the
 * dearest part of a spawn on some filesystems (an inode: 0.5 to 1.4 ms on this project's VM disk,
 * against 30 µs to open one that exists), and on the threadpool it runs beside the forks of the
 * main thread instead of before each of them.
 */
interface Prepared {
  done: boolean;
  logFd?: number;
  logError?: string;
}

/**
 * Files made ahead (`op: 'files'`) that no spawn has opened yet; those of steps that never ran
 * (their execution failed first) are forgotten once there are many.
 */
const madeAhead = new Set<string>();
const MADE_AHEAD_MAX = 1024;

/**
 * The files of a spawn that were all made ahead, opened here and now: opening a file that exists
 * takes microseconds, while the trip to the threadpool and back took most of a millisecond on a
 * busy two-core machine (its threads wait to be scheduled). Undefined when one of them was not.
 */
function prepareMadeAhead(request: SpawnRequest): Prepared | undefined {
  const paths = [request.log, request.output].filter((path) => path !== undefined);
  if (!paths.every((path) => madeAhead.has(path))) return undefined;
  for (const path of paths) madeAhead.delete(path);
  const prepared: Prepared = { done: true };
  try {
    if (request.output !== undefined) closeSync(openSync(request.output, 'a', 0o600));
    if (request.log !== undefined) prepared.logFd = openSync(request.log, 'a', 0o600);
  } catch {
    // Removed meanwhile (with its directory): made again the usual way.
    return undefined;
  }
  return prepared;
}

function prepare(request: SpawnRequest): Prepared {
  const ahead = prepareMadeAhead(request);
  if (ahead !== undefined) return ahead;
  const prepared: Prepared = { done: false };
  let waiting = (request.log !== undefined ? 1 : 0) + (request.output !== undefined ? 1 : 0);
  const settle = (): void => {
    if (--waiting > 0) return;
    prepared.done = true;
    if (draining === false) drain();
  };
  if (waiting === 0) prepared.done = true;
  if (request.log !== undefined) {
    openIn(request.log, (error, fd) => {
      if (error !== null) prepared.logError = `Cannot open its log file: ${error.message}`;
      else prepared.logFd = fd;
      settle();
    });
  }
  if (request.output !== undefined) {
    // The command may still make it; a broken state directory shows in its log.
    openIn(request.output, (error, fd) => {
      if (error === null && fd !== undefined) close(fd, () => {});
      settle();
    });
  }
  return prepared;
}

function start(request: SpawnRequest, prepared: Prepared): void {
  if (prepared.logError !== undefined) return send({ id: request.id, error: prepared.logError });
  const fd = prepared.logFd;
  const base = request.base === undefined ? undefined : environments.get(request.base);
  let child: ChildProcess;
  try {
    child = spawn(request.file, request.args as string[], {
      cwd: request.cwd,
      env: base === undefined ? request.env : { ...base, ...request.env },
      detached: true,
      stdio: request.relay === true ? ['pipe', 'pipe', 'ignore'] : fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
  } catch (error) {
    return send({ id: request.id, error: `Cannot run "${request.file}": ${(error as Error).message}` });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT (missing cwd, missing shell) through an 'error' event; swallow it here.
    child.once('error', () => {});
    return send({ id: request.id, error: `Cannot run the command: working directory "${request.cwd}" or shell "${request.file}" is missing` });
  }
  children.set(request.id, child);
  // Read before the child can be reaped (that happens on a later turn of the loop): it is there,
  // a zombie at worst.
  send({ id: request.id, pid, startTime: startTime(pid) });
  const captured = request.capture === undefined ? undefined : capture(child, request.capture);
  if (request.relay === true) relay(request.id, child);
  child.once('exit', (code, signal) => {
    // Let output already in the pipes arrive before it is read.
    setImmediate(() => {
      children.delete(request.id);
      send({ id: request.id, exit: { code, signal }, ...(captured !== undefined ? { output: captured() } : {}) });
    });
  });
}

/** What a relayed child prints goes to the daemon as it comes. */
function relay(id: number, child: ChildProcess): void {
  child.stdin?.on('error', () => {});
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (out: string) => send({ id, out }));
}

function input(request: InputRequest): void {
  const stdin = children.get(request.id)?.stdin;
  if (stdin === undefined || stdin === null) return;
  if (request.data !== undefined) stdin.write(request.data);
  if (request.end === true) stdin.end();
}

/** Keeps the last `limit` bytes the child prints (stdout and stderr together). */
function capture(child: ChildProcess, limit: number): () => string {
  const chunks: Buffer[] = [];
  let kept = 0;
  const keep = (chunk: Buffer): void => {
    chunks.push(chunk);
    kept += chunk.length;
    while (chunks.length > 1 && kept - chunks[0]!.length >= limit) kept -= chunks.shift()!.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => Buffer.concat(chunks).subarray(-limit).toString('utf8');
}

/** To the child's process group, only while the child is not reaped: after that its pgid may be anyone's. */
function signal(request: SignalRequest): void {
  const child = children.get(request.id);
  let signalled = false;
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, request.signal);
      signalled = true;
    } catch {
      // gone meanwhile
    }
  }
  send({ id: request.id, signalled });
}

/**
 * Requests are carried out in the order they came (a signal after its spawn, a spawn after its
 * environment); a spawn waits at the head of the queue until its files are made, and the files of
 * the spawns behind it are made meanwhile.
 */
const queue: Array<{ request: Request; prepared?: Prepared }> = [];
let head = 0;
let draining = false;

function drain(): void {
  draining = true;
  while (head < queue.length) {
    const { request, prepared } = queue[head]!;
    if (prepared !== undefined && !prepared.done) break;
    head++;
    if (request.op === 'spawn') start(request, prepared!);
    else if (request.op === 'signal') signal(request);
    else if (request.op === 'input') input(request);
    else if (request.op === 'files') makeFiles(request);
    else environments.set(request.id, request.env);
  }
  if (head === queue.length) {
    queue.length = 0;
    head = 0;
  }
  draining = false;
}

/**
 * Made ahead on the threadpool, in the queue's order (after the spawns asked for before, so never
 * beside their forks): the next group of a task's plan while this one runs, so that a chain of
 * tasks creates no file on its way. Its spawn then opens them here at once (prepareMadeAhead),
 * appending, never truncating, as it would open files it had made itself.
 */
function makeFiles(request: FilesRequest): void {
  for (const path of request.paths) {
    openIn(path, (error, fd) => {
      if (error !== null || fd === undefined) return;
      close(fd, () => {});
      if (madeAhead.size >= MADE_AHEAD_MAX) madeAhead.clear();
      madeAhead.add(path);
    });
  }
}

function handle(line: string): void {
  if (line === '') return;
  const request = JSON.parse(line) as Request;
  queue.push(request.op === 'spawn' ? { request, prepared: prepare(request) } : { request });
}

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let end = pending.indexOf('\n');
  while (end >= 0) {
    handle(pending.slice(0, end));
    pending = pending.slice(end + 1);
    end = pending.indexOf('\n');
  }
  drain();
});
// The daemon is gone (stopped, or crashed): leave the commands running and go.
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
// Signals meant for a terminal's foreground group (Ctrl-C on `tend daemon`) are the daemon's to handle.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => process.exit(0));
