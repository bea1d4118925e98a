/**
 * Writing to a stream's reader without ever waiting for it: while the socket's buffer is full,
 * chunks queue (in order); a reader more than `maxQueued` chunks behind is cut off (`onOverflow`,
 * then the stream is destroyed), so a slow reader costs bounded memory and never slows the daemon
 * down. WatchEvents (`api/watch-events.ts`) and the dashboard's feed (`dashboard/event-stream.ts`)
 * write through it.
 */
export const MAX_QUEUED_EVENTS = 10_000;

/** What of a writable stream (an HTTP response) the writer uses. */
export interface UnblockingTarget {
  write(chunk: string | Uint8Array): boolean;
  once(event: 'drain', listener: () => void): unknown;
  destroy(): unknown;
  readonly destroyed: boolean;
}

export function unblockingWriter(
  out: UnblockingTarget,
  maxQueued: number,
  onOverflow: (queued: number) => void,
): (chunk: string | Uint8Array) => void {
  const queue: Array<string | Uint8Array> = [];
  let blocked = false;
  const flush = (): void => {
    blocked = false;
    while (queue.length > 0) {
      if (!out.write(queue.shift()!)) {
        blocked = true;
        out.once('drain', flush);
        return;
      }
    }
  };
  return (chunk) => {
    if (out.destroyed) return;
    if (!blocked) {
      if (!out.write(chunk)) {
        blocked = true;
        out.once('drain', flush);
      }
      return;
    }
    if (queue.length >= maxQueued) {
      onOverflow(queue.length);
      out.destroy();
      return;
    }
    queue.push(chunk);
  };
}
