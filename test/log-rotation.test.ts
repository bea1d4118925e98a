import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

  it('what the command writes while the rotation copies is copied after it, not lost', async () => {
    const cap = 4 * 1024 * 1024; // four chunks of copy: several turns of the event loop
    const path = join(tempDir(), 'run.log');
    writeFileSync(path, 'x'.repeat(2 * cap));
    const rotator = new LogRotator(cap);
    onTestFinished(() => rotator.close());
    rotator.track(path);
    const rotation = rotator.check(path);
    // A writer appending a numbered line at every turn until the rotation is done.
    let written = 0;
    let done = false;
    void rotation.then(() => (done = true));
    while (!done) {
      appendFileSync(path, `line ${++written}\n`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await rotation).toBe(true);
    expect(written).toBeGreaterThan(1);
    const kept = readFileSync(`${path}.1`, 'latin1') + readFileSync(path, 'latin1');
    const lines = kept.replace(/^x+/, '').split('\n').filter(Boolean);
    expect(lines).toEqual(Array.from({ length: written }, (_, index) => `line ${index + 1}`));
  });
});
