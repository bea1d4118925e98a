/**
 * The spawner (runtime/machine/spawner-main.ts) makes a spawn's files on libuv's threadpool while
 * it forks the spawns ahead of it: requests must still be carried out in the order they came, so
 * a signal sent before its spawn's files exist reaches the command, each command finds its own
 * files made (the outputs file empty, both its owner's only), and a spawn whose log cannot be
 * made fails alone. Files made ahead (the next group of a plan) are there, empty and their owner's
 * only, before their spawn, which opens them as it would have made them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Spawner } from '../src/runtime/machine/spawner.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

function startSpawner(): Spawner {
  const spawner = new Spawner();
  onTestFinished(() => spawner.close());
  return spawner;
}

describe('the spawner', () => {
  it('carries out a burst of spawns in order: each command finds its files, and a signal sent at once reaches its command', async () => {
    const root = tempDir();
    const spawner = startSpawner();
    const count = 40;
    const spawned = Array.from({ length: count }, (_, index) =>
      spawner.spawn({
        file: '/bin/sh',
        // The outputs file exists, empty, before the command runs.
        args: ['-c', `test -f "$OUT" && test ! -s "$OUT" && echo "command ${index}"; exec sleep 30`],
        cwd: root,
        env: { OUT: join(root, 'outputs', `${index}.env`), PATH: process.env.PATH ?? '/usr/bin:/bin' },
        log: join(root, 'logs', `${index}.log`),
        output: join(root, 'outputs', `${index}.env`),
      }),
    );
    // Sent before the spawner has answered (or made the files) of any of them.
    const signalled = await Promise.all(spawned.map((one) => one.signalGroup('SIGTERM')));
    expect(signalled).toEqual(Array.from({ length: count }, () => true));
    const exits = await Promise.all(spawned.map((one) => one.exited));
    for (const { exit } of exits) expect(exit.signal).toBe('SIGTERM');
    for (let index = 0; index < count; index++) {
      expect(statSync(join(root, 'logs', `${index}.log`)).mode & 0o777).toBe(0o600);
      expect(statSync(join(root, 'outputs', `${index}.env`)).mode & 0o777).toBe(0o600);
    }
    // Made by the first spawn that found them missing, the owner's only.
    for (const dir of ['logs', 'outputs']) expect(statSync(join(root, dir)).mode & 0o777).toBe(0o700);
    // A command that ran before its signal printed its line into its own log, and nobody else's.
    for (let index = 0; index < count; index++) {
      const log = readFileSync(join(root, 'logs', `${index}.log`), 'utf8');
      expect(['', `command ${index}\n`]).toContain(log);
    }
  });

  it("makes files ahead, empty and their owner's only; their spawns use them, and one removed meanwhile is made again", async () => {
    const root = tempDir();
    const spawner = startSpawner();
    const files = (index: number) => ({ log: join(root, 'logs', 'e', `${index}.log`), output: join(root, 'outputs', 'e', `${index}.env`) });
    spawner.makeFiles([0, 1].flatMap((index) => Object.values(files(index))));
    await waitFor(() => [0, 1].every((index) => Object.values(files(index)).every((path) => existsSync(path))), { what: 'the files made ahead' });
    for (const index of [0, 1]) {
      for (const path of Object.values(files(index))) expect({ path, mode: statSync(path).mode & 0o777, size: statSync(path).size }).toEqual({ path, mode: 0o600, size: 0 });
    }
    for (const dir of ['logs/e', 'outputs/e']) expect(statSync(join(root, dir)).mode & 0o777).toBe(0o700);
    rmSync(files(1).output);
    const runs = [0, 1].map((index) =>
      spawner.spawn({
        file: '/bin/sh',
        args: ['-c', `test -f "$OUT" && test ! -s "$OUT" && echo "command ${index}"`],
        cwd: root,
        env: { OUT: files(index).output, PATH: process.env.PATH ?? '/usr/bin:/bin' },
        ...files(index),
      }),
    );
    for (const run of runs) expect((await run.exited).exit.code).toBe(0);
    for (const index of [0, 1]) expect(readFileSync(files(index).log, 'utf8')).toBe(`command ${index}\n`);
    expect(statSync(files(1).output).mode & 0o777).toBe(0o600);
  });

  it('a spawn whose log cannot be made fails with the reason, and the spawns around it run', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'not-a-directory'), '');
    mkdirSync(join(root, 'logs'));
    const spawner = startSpawner();
    const spawn = (log: string) => spawner.spawn({ file: '/bin/sh', args: ['-c', 'echo ran'], cwd: root, env: {}, log });
    const [before, broken, after] = [spawn(join(root, 'logs', 'a.log')), spawn(join(root, 'not-a-directory', 'b.log')), spawn(join(root, 'logs', 'c.log'))];
    await expect(broken.started).rejects.toThrow(/Cannot open its log file/);
    expect((await before.exited).exit.code).toBe(0);
    expect((await after.exited).exit.code).toBe(0);
    expect(readFileSync(join(root, 'logs', 'a.log'), 'utf8')).toBe('ran\n');
    expect(readFileSync(join(root, 'logs', 'c.log'), 'utf8')).toBe('ran\n');
  });
});
