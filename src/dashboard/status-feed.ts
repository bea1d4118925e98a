/**
 * Tells the dashboard's event streams when what GetStatus shows has changed (the automations
 * file's problems, the control plane's health), so the page reads it again only then. The status
 * is an in-memory projection; `check()` compares it with the last one it saw, and is called when
 * something it shows may have changed: the file watcher reloaded, a resource changed, or a
 * stream's keep-alive came due (the control plane's health changes without an event of its own).
 */
import { EventEmitter } from 'node:events';

export class StatusFeed extends EventEmitter<{ changed: [] }> {
  private last: string | undefined;
  private scheduled = false;

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

  /** One check for a burst of changes: on the next turn of the event loop. */
  checkSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.check();
    });
  }
}
