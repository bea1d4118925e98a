/**
 * Commits reach the disk off the event loop. SQLite commits with `synchronous=NORMAL`: the WAL
 * is written, not fsynced. This then fsyncs the WAL on libuv's threadpool, one fsync at a time,
 * each covering every commit made before it began. A caller that acknowledges a write waits for
 * the fsync that covers its commit, so what a response acknowledges is on disk as with
 * `synchronous=FULL`, while the daemon's thread goes on (a FULL commit held it 0.6 ms here, a
 * task's step paid three or four of them).
 *
 * The WAL's descriptor is opened once: SQLite keeps the file while the store is open (it deletes
 * it only when its last connection closes, and a checkpoint rewrites it in place).
 *
 * Every commit is fsynced, not only those someone waits for. A crash of the daemon loses nothing
 * either way (the page cache has the WAL); only a crash of the machine between a commit and its
 * fsync could, and that commit was acknowledged to no one.
 */
import { close, closeSync, fdatasync, openSync } from 'node:fs';

interface Batch {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function batch(): Batch {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  // A failed fsync that nobody waits for is no crash: the next acknowledgement asks again.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class WalSync {
  private fd: number | undefined;
  private running = false;
  private closed = false;
  /** The commits made since the running fsync began: the next fsync covers them. */
  private next: Batch | undefined;
  /** Settles when every commit so far is on disk (or failed to get there). */
  private latest: Promise<void> = Promise.resolve();

  /**
   * @param walPath the database's WAL file (`<db>-wal`)
   * @param failure what a failed fsync means to the caller waiting for it
   * @param sync the fsync (tests pass one they end themselves)
   */
  constructor(
    private readonly walPath: string,
    private readonly failure: (error: NodeJS.ErrnoException) => Error,
    private readonly sync: (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void = fdatasync,
  ) {}

  /** A commit has just been written to the WAL; resolves once it is on disk. */
  committed(): Promise<void> {
    this.next ??= batch();
    this.latest = this.next.promise;
    if (!this.running) this.start();
    return this.latest;
  }

  /** Resolves once every commit made so far is on disk; rejects when its fsync failed. */
  settled(): Promise<void> {
    return this.latest;
  }

  /** Closes the WAL's descriptor once the running fsync (if any) is done. */
  close(): void {
    this.closed = true;
    if (!this.running && this.fd !== undefined) closeSync(this.fd);
  }

  private start(): void {
    const covered = this.next;
    this.next = undefined;
    if (covered === undefined) return;
    try {
      this.fd ??= openSync(this.walPath, 'r');
    } catch (error) {
      covered.reject(this.failure(error as NodeJS.ErrnoException));
      return;
    }
    const fd = this.fd;
    this.running = true;
    this.sync(fd, (error) => {
      this.running = false;
      if (error === null) covered.resolve();
      else covered.reject(this.failure(error));
      if (this.closed) {
        close(fd, () => {});
        this.next?.resolve();
        return;
      }
      this.start();
    });
  }
}
