import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { unblockingWriter } from '../../src/domain/unblocking-writer.js';

/** A stream whose buffer is full while `full` says so; `drain()` empties it. */
class Target extends EventEmitter {
  written: string[] = [];
  full = false;
  destroyed = false;
  write(chunk: string | Uint8Array): boolean {
    this.written.push(String(chunk));
    return !this.full;
  }
  destroy(): void {
    this.destroyed = true;
  }
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

describe('writing without waiting for the reader', () => {
  it('queues while the buffer is full and writes the queue in order on drain', () => {
    const target = new Target();
    const write = unblockingWriter(target, 10, () => {});
    target.full = true;
    write('a'); // accepted into the full buffer
    write('b');
    write('c');
    expect(target.written).toEqual(['a']);
    target.drain();
    expect(target.written).toEqual(['a', 'b', 'c']);
    write('d');
    expect(target.written).toEqual(['a', 'b', 'c', 'd']);
  });

  it('cuts off a reader more than maxQueued behind, once, and writes nothing after', () => {
    const target = new Target();
    const overflows: number[] = [];
    const write = unblockingWriter(target, 2, (queued) => overflows.push(queued));
    target.full = true;
    for (const chunk of ['a', 'b', 'c', 'd', 'e']) write(chunk);
    expect(overflows).toEqual([2]);
    expect(target.destroyed).toBe(true);
    expect(target.written).toEqual(['a']);
  });
});
