/**
 * The fsync of the WAL, off the event loop: a commit is acknowledged once an fsync that began
 * after it ends; a failed fsync reaches whoever waits for it, and nobody else.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalSync } from '../src/store/wal-sync.js';
import { tempDir } from './helpers/temp.js';

const failure = (error: NodeJS.ErrnoException): Error => new Error(`fsync failed: ${error.code}`);

describe('the fsync of the WAL', () => {
  it('acknowledges a commit only once an fsync that began after it has ended, one fsync at a time', async () => {
    const wal = join(tempDir(), 'store.db-wal');
    writeFileSync(wal, 'frames');
    const running: Array<(error: NodeJS.ErrnoException | null) => void> = [];
    const sync = new WalSync(wal, failure, (_fd, done) => running.push(done));
    const acknowledged: string[] = [];
    void sync.committed().then(() => acknowledged.push('first'));
    expect(running).toHaveLength(1);
    // Made while the first fsync runs: that fsync may have begun before its frames were written.
    void sync.committed().then(() => acknowledged.push('second'));
    void sync.committed().then(() => acknowledged.push('third'));
    expect(running).toHaveLength(1);
    running[0]!(null);
    await new Promise((resolve) => setImmediate(resolve));
    expect(acknowledged).toEqual(['first']);
    // One fsync for both commits of the meantime.
    expect(running).toHaveLength(2);
    let settled = false;
    void sync.settled().then(() => (settled = true));
    running[1]!(null);
    await new Promise((resolve) => setImmediate(resolve));
    expect(acknowledged).toEqual(['first', 'second', 'third']);
    expect(settled).toBe(true);
    expect(running).toHaveLength(2);
    sync.close();
  });

  it('covers every commit, in order, with commits made during an fsync covered by the next', async () => {
    const wal = join(tempDir(), 'store.db-wal');
    writeFileSync(wal, 'frames');
    const sync = new WalSync(wal, failure);
    const order: number[] = [];
    const commits = Array.from({ length: 5 }, (_, index) => sync.committed().then(() => order.push(index)));
    await Promise.all(commits);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    await expect(sync.settled()).resolves.toBeUndefined();
    sync.close();
  });

  it('gives a failed fsync to the commits it covered, and the next commit a fresh one', async () => {
    // A character device: fdatasync fails (EINVAL), as it would on a failing disk.
    const sync = new WalSync('/dev/full', failure);
    await expect(sync.committed()).rejects.toThrow('fsync failed: EINVAL');
    await expect(sync.settled()).rejects.toThrow('fsync failed: EINVAL');
    // A failure that nobody waits for is not an unhandled rejection.
    sync.committed();
    await new Promise((resolve) => setImmediate(resolve));
    sync.close();
  });

  it('fails the commits when the WAL cannot be opened', async () => {
    const sync = new WalSync(join(tempDir(), 'missing', 'store.db-wal'), failure);
    await expect(sync.committed()).rejects.toThrow('fsync failed: ENOENT');
    sync.close();
  });
});
