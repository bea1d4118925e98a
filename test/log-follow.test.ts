import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followLog } from '../src/api/log-stream.js';
import { LogWakeup } from '../src/api/log-wakeup.js';
import { tempDir } from './helpers/temp.js';

/** Never in these tests: a follower that only woke on its fallback would time out. */
const NEVER_MS = 3_600_000;

function deadline<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A change signal the test fires by hand, as the daemon's resource events would. */
function changes(): { subscribe: (listener: () => void) => () => void; fire: () => void; listeners: Set<() => void> } {
  const listeners = new Set<() => void>();
  return {
    listeners,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fire: () => {
      for (const listener of listeners) listener();
    },
  };
}

describe('following a log', () => {
  it('reads what is appended as it is written (inotify), not on a timer', async () => {
    const path = join(tempDir(), 'run.log');
    writeFileSync(path, 'first\n');
    const signal = changes();
    const wakeup = new LogWakeup(signal.subscribe, NEVER_MS);
    const chunks = followLog(path, { follow: true, tailLines: undefined, isLive: () => true, wakeup });
    try {
      expect((await deadline(chunks.next(), 'the first line')).value?.toString()).toBe('first\n');
      const next = chunks.next();
      appendFileSync(path, 'second\n');
      expect((await deadline(next, 'the appended line')).value?.toString()).toBe('second\n');
    } finally {
      await chunks.return(undefined);
      wakeup.close();
    }
    expect(signal.listeners.size).toBe(0);
  });

  it('ends once the session has ended and says so by an event, draining what it wrote last', async () => {
    const path = join(tempDir(), 'run.log');
    writeFileSync(path, '');
    let live = true;
    const signal = changes();
    const wakeup = new LogWakeup(signal.subscribe, NEVER_MS);
    const chunks = followLog(path, { follow: true, tailLines: undefined, isLive: () => live, wakeup });
    try {
      const waiting = chunks.next();
      // The session writes its last words and ends; only the end's event wakes the follower.
      await new Promise((resolve) => setImmediate(resolve));
      live = false;
      appendFileSync(path, 'bye\n');
      signal.fire();
      expect((await deadline(waiting, 'the last line')).value?.toString()).toBe('bye\n');
      expect(await deadline(chunks.next(), 'the end of the stream')).toEqual({ done: true, value: undefined });
    } finally {
      await chunks.return(undefined);
      wakeup.close();
    }
  });

  it('keeps a change that came while the follower was reading: the next wait returns at once', async () => {
    const signal = changes();
    const wakeup = new LogWakeup(signal.subscribe, NEVER_MS);
    try {
      signal.fire();
      await deadline(wakeup.next(), 'a change fired before the wait');
      const waiting = wakeup.next();
      signal.fire();
      await deadline(waiting, 'a change fired during the wait');
    } finally {
      wakeup.close();
    }
  });
});
