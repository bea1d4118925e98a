/** inotify watches of the files plain tests look at, on a real directory (one watch per directory). */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { PathWatches } from '../src/runtime/machine/path-watch.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

describe('watches of the files plain tests look at', () => {
  it('tell each test of a change to its own files only, with one watch of a directory for all', async () => {
    const dir = tempDir();
    const watches = new PathWatches();
    const seen: string[] = [];
    const a = watches.watch([join(dir, 'a')], () => seen.push('a'))!;
    const b = watches.watch([join(dir, 'b')], () => seen.push('b'))!;
    onTestFinished(() => [a, b].forEach((watch) => watch.close()));
    expect(watches.size).toBe(1);
    // Events come in order: had `other` woken anyone, it would show before `a`.
    writeFileSync(join(dir, 'other'), '');
    writeFileSync(join(dir, 'a'), '');
    await waitFor(() => seen.length > 0, { what: 'a change of a' });
    expect(seen[0]).toBe('a');
    writeFileSync(join(dir, 'b'), '');
    await waitFor(() => seen.includes('b'), { what: 'a change of b' });
    expect(a.live && b.live).toBe(true);
    a.close();
    b.close();
    expect(watches.size).toBe(0);
  });

  it('are lost when their directory goes: the tests are told once, and polled again', async () => {
    const root = tempDir();
    const dir = join(root, 'flags');
    mkdirSync(dir);
    const watches = new PathWatches();
    let told = 0;
    const watch = watches.watch([join(dir, 'up')], () => (told += 1))!;
    onTestFinished(() => watch.close());
    rmSync(dir, { recursive: true });
    await waitFor(() => !watch.live, { what: 'the watch to be lost' });
    expect(told).toBe(1);
    expect(watches.size).toBe(0);
  });

  it('cannot be made where the kernel does not see every change, or where the directory is missing', () => {
    const watches = new PathWatches();
    expect(watches.watch(['/proc/self/nothing'], () => {})).toBeNull();
    expect(watches.watch([join(tempDir(), 'missing', 'up')], () => {})).toBeNull();
    expect(watches.watch([join(tempDir(), 'up'), '/proc/1/up'], () => {})).toBeNull();
    expect(watches.size).toBe(0);
  });
});
