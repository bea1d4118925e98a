/**
 * How a watch reads the services its events name: those named in one turn of the event loop are
 * read one by one when they are few, and by ListServices of just those ids when they are many (a
 * `tend stop` of 500 services makes three events each: 1,500 GetService calls took the CLI over a
 * second, against a few lists of 100). One list runs at a time; what is named meanwhile waits.
 */

/** More services named in one turn than this are read by a list. */
const ONE_BY_ONE_MAX = 8;

export class ServiceReads {
  private readonly named = new Set<string>();
  private scheduled = false;
  private listing = false;

  constructor(
    /** Reads one service (the watch's own read, one in flight per resource). */
    private readonly readOne: (id: string) => void,
    /** Reads these services by lists of their ids (`ResourceWatch.refreshServices`). */
    private readonly readMany: (ids: readonly string[]) => Promise<void>,
    private readonly aborted: () => boolean,
  ) {}

  /** An event named this service. */
  add(id: string): void {
    this.named.add(id);
    if (this.scheduled || this.listing) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.aborted() || this.named.size === 0) return;
    const ids = [...this.named];
    this.named.clear();
    if (ids.length <= ONE_BY_ONE_MAX) {
      for (const id of ids) this.readOne(id);
      return;
    }
    this.listing = true;
    void this.readMany(ids)
      // The daemon went away or refused: those services are read one by one instead.
      .catch(() => ids.forEach((id) => this.readOne(id)))
      .finally(() => {
        this.listing = false;
        this.flush();
      });
  }
}
