/**
 * The environment's open ports: what `gitpod environment port open PORT` recorded (from a task,
 * a service or its ready command), as Ona lists an environment's ports. A port is opened only
 * while something listens on it on this machine, so as a ready command it means "the port is
 * served"; it stays recorded until it is closed, and every listing says whether something still
 * listens. Who asked is kept (the run from the command's TEND_SESSION_ID, and its service), and
 * so is the listening socket's inode: enough to check later whose processes hold the port.
 * Kept in the store, so the list survives a daemon restart.
 */
import { failedPrecondition } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';

/** A socket listening on this machine (from the runtime: `/proc/net/tcp{,6}`). */
export interface Listener {
  readonly port: number;
  readonly address: string;
  readonly inode: string;
}

export interface OpenedPort {
  readonly port: number;
  readonly name: string;
  /** Where a browser on this machine reaches it. */
  readonly url: string;
  /** RFC 3339. */
  readonly openedAt: string;
  /** The run that asked (its TEND_SESSION_ID) and the service it is a run of, when known. */
  readonly openedBy: { readonly runId: string | null; readonly serviceId: string | null; readonly service: string | null };
  /** The address and socket inode that listened when it was opened. */
  readonly listener: { readonly address: string; readonly inode: string };
}

export interface ListedPort extends OpenedPort {
  /** Something listens on the port now. */
  readonly listening: boolean;
}

export interface PortRegistryOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** The sockets listening on this machine now. */
  readonly listeners: () => readonly Listener[];
  /** The service a run belongs to, if any. */
  readonly serviceOfRun: (runId: string) => { readonly id: string; readonly reference: string } | undefined;
}

const PORTS_KEY = 'ports';

/** `http://127.0.0.1:PORT`, or the one address it listens on when that is not a wildcard or loopback v4. */
function urlOf(port: number, address: string): string {
  if (address === '0.0.0.0' || address === '::' || address.startsWith('127.') || address === '::ffff:127.0.0.1') return `http://127.0.0.1:${port}`;
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export class PortRegistry {
  private readonly ports = new Map<number, OpenedPort>();

  constructor(private readonly options: PortRegistryOptions) {
    const text = options.store.readMeta(PORTS_KEY);
    for (const port of text === undefined ? [] : (JSON.parse(text) as OpenedPort[])) this.ports.set(port.port, port);
  }

  /**
   * Records the port once something listens on it; refuses at once (failed_precondition) while
   * nothing does. Opening an open port again renames it and names who asked last.
   */
  open(request: { readonly port: number; readonly name?: string | undefined; readonly runId?: string | undefined }): OpenedPort {
    const { port } = request;
    const listeners = this.options.listeners().filter((listener) => listener.port === port);
    const listener = listeners.find((candidate) => candidate.address === '0.0.0.0' || candidate.address === '::') ?? listeners[0];
    if (listener === undefined) throw failedPrecondition(`Cannot open port ${port}: nothing listens on it on this machine`);
    const runId = request.runId ?? null;
    const owner = runId === null ? undefined : this.options.serviceOfRun(runId);
    const opened: OpenedPort = {
      port,
      name: request.name ?? this.ports.get(port)?.name ?? owner?.reference ?? '',
      url: urlOf(port, listener.address),
      openedAt: new Date(this.options.clock.now()).toISOString(),
      openedBy: { runId, serviceId: owner?.id ?? null, service: owner?.reference ?? null },
      listener: { address: listener.address, inode: listener.inode },
    };
    this.ports.set(port, opened);
    this.save();
    return opened;
  }

  /** Every recorded port, by number, and whether something listens on it now. */
  list(): ListedPort[] {
    const listening = new Set(this.options.listeners().map((listener) => listener.port));
    return [...this.ports.values()].sort((a, b) => a.port - b.port).map((port) => ({ ...port, listening: listening.has(port.port) }));
  }

  /** Forgets the port; false when it was not open. */
  close(port: number): boolean {
    const had = this.ports.delete(port);
    if (had) this.save();
    return had;
  }

  private save(): void {
    this.options.store.writeMeta(PORTS_KEY, JSON.stringify([...this.ports.values()]));
  }
}
