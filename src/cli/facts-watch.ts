/**
 * The daemon-level facts that no event announces (what a STARTING service's last probe said, a
 * service's pid and start, the ports found listening), kept fresh beside a `ResourceWatch`: read
 * again soon after every resource change (a burst is one read), and every `intervalMs` while
 * `wanted()` says they can change by themselves (a service is STARTING; the TUI is open).
 * Resources themselves are never polled.
 */
import { EventEmitter } from 'node:events';
import type { ApiClient } from '../client/api-client.js';
import type { ResourceWatch } from '../client/resource-watch.js';
import { getStatus, listPorts, type DaemonStatus, type PortEntry } from './daemon-facts.js';

export interface FactsWatchOptions {
  readonly intervalMs: number;
  /** True while the facts may change without an event. */
  readonly wanted: () => boolean;
  /** Read the ports too (ListPorts). */
  readonly ports: boolean;
}

/** After a resource change, how long to gather more changes before reading. */
const CHANGE_BATCH_MS = 30;

export class FactsWatch extends EventEmitter<{ change: [] }> {
  status: DaemonStatus | undefined;
  ports: PortEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly client: ApiClient,
    private readonly watch: ResourceWatch,
    private readonly options: FactsWatchOptions,
  ) {
    super();
  }

  /** Reads once now, then keeps the facts fresh until `close()`. */
  async start(): Promise<this> {
    this.watch.on('change', this.soon);
    await this.read();
    return this;
  }

  close(): void {
    this.closed = true;
    this.watch.off('change', this.soon);
    clearTimeout(this.timer);
  }

  private readonly soon = (): void => this.schedule(CHANGE_BATCH_MS);

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.read(), ms);
  }

  private async read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      const [status, ports] = await Promise.all([getStatus(this.client), this.options.ports ? listPorts(this.client).catch(() => this.ports) : this.ports]);
      if (!this.closed) {
        this.status = status;
        this.ports = ports;
        this.emit('change');
      }
    } catch {
      // The daemon is going away: the resource watch says so.
    } finally {
      this.reading = false;
    }
    if (this.again) {
      this.again = false;
      this.schedule(0);
    } else if (this.options.wanted()) {
      this.schedule(this.options.intervalMs);
    }
  }
}
