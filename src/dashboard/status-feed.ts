/**
 * Tells the dashboard's event streams when what GetStatus shows has changed (the automations
 * file's problems, the control plane's health), so the page reads it again only then. The status
 * is an in-memory projection; `check()` compares it with the last one it saw, and is called when
 * something it shows may have changed: the file watcher reloaded, a resource changed, or a
 * stream's keep-alive came due (the control plane's health changes without an event of its own).
 * What a change leads to may show a moment after it (the port a new process opens is found once
 * it listens), so a change is checked again a little later too.
 */
import { EventEmitter } from 'node:events';

/** After a burst of changes: checked again this long after it (the ports found are cached for 2 s). */
const FOLLOW_UPS_MS = [1_000, 3_000];

export class StatusFeed extends EventEmitter<{ changed: [] }> {
  private last: string | undefined;
  private scheduled = false;
  private followUps: NodeJS.Timeout[] = [];

  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly status: () => unknown) {
    super();
    this.setMaxListeners(0);
  }

  /** Compares the status (it may take a moment: the ports found are looked at) with the last one; checks never overlap. */
  check(): void {
    this.checking = this.checking.then(async () => {
      const now = JSON.stringify(await this.status());
      if (now === this.last) return;
      this.last = now;
      this.emit('changed');
    }).catch(() => {});
  }

  /** One check for a burst of changes: on the next turn of the event loop, and again later. */
  checkSoon(): void {
    for (const timer of this.followUps) clearTimeout(timer);
    this.followUps = FOLLOW_UPS_MS.map((ms) => setTimeout(() => this.check(), ms).unref());
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.check();
    });
  }
}
