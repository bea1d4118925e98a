import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LogRotator } from '../src/runtime/log-rotation.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

describe('log rotation', () => {
  it('two checks of a log over its cap at once rotate it once; the second looks again after the first', async () => {
    const cap = 64 * 1024;
    const path = join(tempDir(), 'run.log');
    writeFileSync(path, 'x'.repeat(cap + 36 * 1024));
    const rotator = new LogRotator(cap);
    onTestFinished(() => rotator.close());
    rotator.track(path);
    const results = await Promise.all([rotator.check(path), rotator.check(path)]);
    expect(results.sort()).toEqual([false, true]);
    expect(rotator.rotations).toBe(1);
    expect(statSync(`${path}.1`).size).toBe(cap);
    expect(statSync(path).size).toBe(0);
  });

  it('a log already over its cap when tracking begins is rotated without another write', async () => {
    const cap = 64 * 1024;
    const path = join(tempDir(), 'run.log');
    writeFileSync(path, 'x'.repeat(cap * 2));
    const rotator = new LogRotator(cap);
    onTestFinished(() => rotator.close());
    rotator.track(path);
    await waitFor(() => rotator.rotations === 1, { what: 'the rotation' });
    expect(statSync(path).size).toBe(0);
    expect(statSync(`${path}.1`).size).toBe(cap);
  });

  it('a log under its cap is left alone, and an untracked one is never rotated', async () => {
    const dir = tempDir();
    const small = join(dir, 'small.log');
    const other = join(dir, 'other.log');
    writeFileSync(small, 'hello\n');
    writeFileSync(other, 'x'.repeat(1024));
    const rotator = new LogRotator(512);
    onTestFinished(() => rotator.close());
    rotator.track(small);
    expect(await rotator.check(small)).toBe(false);
    expect(await rotator.check(other)).toBe(false);
    expect(existsSync(`${other}.1`)).toBe(false);
  });
});
