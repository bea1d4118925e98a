/**
 * The daemon's spawner: a small, long-lived Node.js process that starts every command of the
 * machine runtime for the daemon. A fork costs time in proportion to the forking process's memory
 * and blocks its thread until the child has exec'd; here it costs the spawner's few megabytes of
 * heap, on its own thread, while the daemon goes on serving. It imports nothing but Node's own
 * modules and its files' module (spawner-files.ts); spawner.ts is the daemon's side, and the
 * protocol is described there.
 *
 * Each command runs as before: in a new session and process group (`detached`), its output
 * opened on its log file (never a pipe through tend) or, for a ready probe, captured (its last
 * bytes). The spawner reaps its children and reports their exits, so exit codes stay known. When
 * the daemon goes away (its end of stdin closes, a crash included) the spawner exits at once and
 * leaves every command running: they are in sessions of their own, and the next daemon re-adopts
 * them as it would have without a spawner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { makeFiles, prepareFiles, type Prepared } from './spawner-files.js';

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

/** A spawn's files are ready: the queue goes on if it waited for them. */
function whenPrepared(): void {
  if (draining === false) drain();
}

function drain(): void {
  draining = true;
  while (head < queue.length) {
    const { request, prepared } = queue[head]!;
    if (prepared !== undefined && !prepared.done) break;
    head++;
    if (request.op === 'spawn') start(request, prepared!);
    else if (request.op === 'signal') signal(request);
    else if (request.op === 'input') input(request);
    else if (request.op === 'files') makeFiles(request.paths);
    else environments.set(request.id, request.env);
  }
  if (head === queue.length) {
    queue.length = 0;
    head = 0;
  }
  draining = false;
}

function handle(line: string): void {
  if (line === '') return;
  const request = JSON.parse(line) as Request;
  queue.push(request.op === 'spawn' ? { request, prepared: prepareFiles(request, whenPrepared) } : { request });
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
