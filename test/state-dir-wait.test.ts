/**
 * The CLI's waits on a daemon (`tend up` until it answers, `tend down` until it has exited) are
 * woken by the state directory's changes. Each test sets the slow look far beyond its deadline,
 * so only the change can end the wait in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { stateFile, writeDaemonInfo, type DaemonInfo } from '../src/app/state-dir.js';
import { bootId, readProcStat } from '../src/runtime/machine/proc.js';
import { daemonAnswering, daemonExited, waitInStateDir } from '../src/cli/state-dir-wait.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

const NEVER_MS = 600_000;

/** A process standing in for a daemon, with the identity daemon.json gives; killed when the test ends. */
async function standIn(): Promise<{ child: ChildProcess; info: DaemonInfo }> {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const pid = child.pid!;
  const stat = await waitFor(() => readProcStat(pid), { what: 'the stand-in in /proc' });
  return { child, info: { url: 'http://127.0.0.1:1', pid, environmentId: 'env', startTime: stat.startTime, bootId: bootId() } };
}

const within = <T>(promise: Promise<T>, ms = 10_000): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms).unref())]);

describe('waiting on the state directory', () => {
  it('looks again when one of its names changes, and not for the others', async () => {
    const dir = tempDir();
    let looks = 0;
    const waiting = waitInStateDir(dir, () => (++looks, looks > 1 ? 'seen' : undefined), { names: ['wanted'], lookMs: () => NEVER_MS });
    writeFileSync(join(dir, 'other'), 'x');
    // Events come in order: had `other` woken the wait, it would have looked a second time first.
    writeFileSync(join(dir, 'wanted'), 'x');
    expect(await within(waiting)).toBe('seen');
    expect(looks).toBe(2);
  });

  it('ends with undefined when aborted, and looks by itself where there is no directory to watch', async () => {
    const given = new AbortController();
    const waiting = waitInStateDir(tempDir(), () => undefined, { names: ['x'], lookMs: () => NEVER_MS, signal: given.signal });
    given.abort();
    expect(await within(waiting)).toBeUndefined();
    let looks = 0;
    const missing = join(tempDir(), 'not-made');
    expect(await within(waitInStateDir(missing, () => (++looks >= 3 ? looks : undefined), { names: [], lookMs: () => 1 }))).toBe(3);
  });

  it('sees a daemon answer when it writes daemon.json', async () => {
    const dir = tempDir();
    const { info } = await standIn();
    const given = new AbortController();
    const answering = daemonAnswering(dir, given.signal, { slowLookMs: NEVER_MS });
    writeDaemonInfo(dir, info);
    expect(await within(answering)).toEqual(info);
  });

  it('sees a daemon exit once it lets its lock go (the owner file goes just before the exit)', async () => {
    const dir = tempDir();
    const { child, info } = await standIn();
    writeDaemonInfo(dir, info);
    writeFileSync(stateFile.owner(dir), '{}');
    let ended = false;
    const exited = daemonExited(dir, info, { slowLookMs: NEVER_MS }).then(() => (ended = true));
    rmSync(stateFile.daemon(dir));
    rmSync(stateFile.owner(dir));
    // Still running: the wait looks again every few milliseconds until it is gone.
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    child.kill('SIGTERM');
    await within(exited);
  });

  it('sees a daemon of an older tend (no owner file) exit once its daemon.json goes', async () => {
    const dir = tempDir();
    const { child, info } = await standIn();
    writeDaemonInfo(dir, info);
    const exited = daemonExited(dir, info, { slowLookMs: NEVER_MS });
    rmSync(stateFile.daemon(dir));
    child.kill('SIGTERM');
    await within(exited);
  });

  it('sees a daemon killed with -9 (its files left behind) by the slow look', async () => {
    const dir = tempDir();
    const { child, info } = await standIn();
    writeDaemonInfo(dir, info);
    writeFileSync(stateFile.owner(dir), '{}');
    const exited = daemonExited(dir, info, { slowLookMs: 20 });
    child.kill('SIGKILL');
    await within(exited);
  });
});
