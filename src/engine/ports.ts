/**
 * The environment's ports. Two sources, merged: the ports each running service's own processes
 * are found listening on (from their sockets: nothing to declare), and what `gitpod environment
 * port open PORT` recorded (from a task, a service or its ready command), as Ona lists an
 * environment's ports, with their names. A port is opened only while something listens on it on
 * this machine, so as a ready command it means "the port is served"; and when a service asks, only
 * while that service's own processes listen on it: a port held by someone else is refused at once,
 * naming the holder. A recorded port stays until it is closed (kept in the store), and every
 * listing says whether something still listens.
 */
import { failedPrecondition } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { ListeningPort, PortHolder } from '../runtime/runtime.js';
import type { Store } from '../store/store.js';
import type { FoundPorts } from './services/service-controllers.js';
import { heldBy } from './services/port-conflicts.js';
import { utcTime } from '../domain/utc-time.js';

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

/** A port as `ListPorts` shows it: found, recorded, or both. */
export interface ListedPort {
  readonly port: number;
  readonly name: string;
  readonly url: string;
  /** Something listens on the port now. */
  readonly listening: boolean;
  /** The service whose processes listen on it, or that recorded it. */
  readonly serviceId: string | null;
  readonly service: string | null;
  /** Found among a running service's sockets. */
  readonly found: boolean;
  /** Recorded by `gitpod environment port open` (then `openedAt`, `openedBy`, `listener` are set). */
  readonly recorded: boolean;
  readonly openedAt?: string;
  readonly openedBy?: OpenedPort['openedBy'];
  readonly listener?: OpenedPort['listener'];
}

export interface PortRegistryOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** The sockets listening on this machine now. */
  readonly listeners: () => readonly Listener[];
  /** The service a run belongs to, if any. */
  readonly serviceOfRun: (runId: string) => { readonly id: string; readonly reference: string } | undefined;
  /** The ports the current run of a run's service listens on; undefined for a run that is no service's. */
  readonly portsOfRun: (runId: string) => Promise<readonly ListeningPort[] | undefined>;
  /** The ports each running service's processes listen on. */
  readonly foundPorts: () => Promise<readonly FoundPorts[]>;
  /** The reference of a service by id. */
  readonly reference: (serviceId: string) => string | undefined;
  /** Who holds a port's listening socket. */
  readonly holder: (port: number) => Promise<PortHolder | null>;
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
   * nothing does, and, when a service asks, while another process holds it (naming who). Opening
   * an open port again renames it and names who asked last.
   */
  async open(request: { readonly port: number; readonly name?: string | undefined; readonly runId?: string | undefined }): Promise<OpenedPort> {
    const { port } = request;
    const runId = request.runId ?? null;
    const owner = runId === null ? undefined : this.options.serviceOfRun(runId);
    let listeners = this.options.listeners().filter((listener) => listener.port === port);
    if (runId !== null && owner !== undefined) {
      // A service asks: only its own processes' socket counts.
      const own = new Set(((await this.options.portsOfRun(runId)) ?? []).map((socket) => socket.inode));
      const others = listeners.filter((listener) => !own.has(listener.inode));
      listeners = listeners.filter((listener) => own.has(listener.inode));
      if (listeners.length === 0 && others.length > 0) {
        const holder = await this.options.holder(port);
        throw failedPrecondition(`Cannot open port ${port}: ${holder === null ? `another process holds it, not service "${owner.reference}"` : heldBy(port, holder, owner.reference)}`);
      }
    }
    const listener = listeners.find((candidate) => candidate.address === '0.0.0.0' || candidate.address === '::') ?? listeners[0];
    if (listener === undefined) throw failedPrecondition(`Cannot open port ${port}: nothing listens on it on this machine`);
    const opened: OpenedPort = {
      port,
      name: request.name ?? this.ports.get(port)?.name ?? owner?.reference ?? '',
      url: urlOf(port, listener.address),
      openedAt: utcTime(this.options.clock.now()),
      openedBy: { runId, serviceId: owner?.id ?? null, service: owner?.reference ?? null },
      listener: { address: listener.address, inode: listener.inode },
    };
    this.ports.set(port, opened);
    this.save();
    return opened;
  }

  /** Every port found or recorded, by number, and whether something listens on it now. */
  async list(): Promise<ListedPort[]> {
    // Reading the machine's sockets takes milliseconds (the kernel walks its whole table): only for recorded ports.
    const sockets = this.ports.size === 0 ? [] : this.options.listeners();
    const listening = new Set(sockets.map((listener) => listener.port));
    const listed = new Map<number, ListedPort>();
    for (const { serviceId, ports } of await this.options.foundPorts()) {
      const service = this.options.reference(serviceId) ?? null;
      for (const socket of ports) {
        if (listed.has(socket.port)) continue;
        listed.set(socket.port, { port: socket.port, name: service ?? '', url: urlOf(socket.port, socket.address), listening: true, serviceId, service, found: true, recorded: false });
      }
    }
    for (const opened of this.ports.values()) {
      const found = listed.get(opened.port);
      listed.set(opened.port, {
        ...opened,
        listening: listening.has(opened.port),
        serviceId: found?.serviceId ?? opened.openedBy.serviceId,
        service: found?.service ?? opened.openedBy.service,
        found: found !== undefined,
        recorded: true,
      });
    }
    return [...listed.values()].sort((a, b) => a.port - b.port);
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
