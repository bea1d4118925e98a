/**
 * What /proc says about real processes, as the sweep reads it: files larger than the read buffer,
 * identity, and a marked process found by its environment wherever its marker sits.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readProcFile } from '../src/runtime/machine/proc-read.js';
import { readProcStat, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { findSessionProcessesShared, scanSession } from '../src/runtime/machine/proc-scan.js';

/** A `sleep` (or `command`) in its own process group with `env`, killed when the test ends. */
function sleeper(env: Record<string, string>, command: readonly string[] = ['sleep', '60']): number {
  const child = spawn(command[0]!, command.slice(1), { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '', ...env } });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  return child.pid!;
}

describe('reading /proc', () => {
  it('reads a file whole, also one larger than its buffer', () => {
    const pid = sleeper({ BIG: 'x'.repeat(100_000), LAST: 'end' });
    expect(Buffer.compare(readProcFile(`/proc/${pid}/environ`), readFileSync(`/proc/${pid}/environ`))).toBe(0);
    expect(readProcFile(`/proc/${process.pid}/cmdline`).toString()).toBe(readFileSync(`/proc/${process.pid}/cmdline`, 'utf8'));
  });

  it('gives a process its identity, and null once it is gone', async () => {
    const pid = sleeper({});
    const stat = readProcStat(pid);
    expect(stat).toMatchObject({ pid, ppid: process.pid, pgrp: pid });
    expect(stat?.startTime).toMatch(/^\d+$/);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => readProcStat(pid)?.state ?? 'gone').toMatch(/^(Z|gone)$/);
    expect(readProcStat(2 ** 22 + 1)).toBeNull();
  });

  it('finds a session by the marker in its environment, after a variable larger than the read buffer', async () => {
    const marker = `proc-test-${process.pid}-${Date.now()}`;
    const pid = sleeper({ BIG: 'y'.repeat(50_000), [SESSION_MARKER_VAR]: marker });
    const found = await findSessionProcessesShared({ pgids: [], marker });
    expect(found.map((entry) => entry.pid)).toEqual([pid]);
  });

  it('keeps a process in its session once its marker was read, also after it execs with an emptied environment', async () => {
    const marker = `proc-test-${process.pid}-${Date.now()}`;
    // Waits for a line on stdin, then becomes `sleep` with no environment at all (same pid, same start time).
    const child = spawn('sh', ['-c', 'read _; exec env -i sleep 60'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env: { PATH: process.env.PATH ?? '', [SESSION_MARKER_VAR]: marker } });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    const pid = child.pid!;
    expect((await findSessionProcessesShared({ pgids: [], marker })).map((entry) => entry.pid)).toEqual([pid]);
    child.stdin!.end('go\n');
    await expect.poll(() => readFileSync(`/proc/${pid}/environ`).length, { timeout: 5000 }).toBe(0);
    expect((await findSessionProcessesShared({ pgids: [], marker })).map((entry) => entry.pid)).toEqual([pid]);
  });

  it('calls a scan settled only when nothing younger than the session ended while it was read', async () => {
    const marker = `proc-test-${process.pid}-${Date.now()}`;
    // `sleep 0` ends and stays a zombie: its parent (now `sleep 60`) never reaps it.
    const pid = sleeper({ [SESSION_MARKER_VAR]: marker }, ['sh', '-c', 'sleep 0 & exec sleep 60']);
    await expect.poll(() => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').map((child) => readProcStat(Number(child))?.state)).toEqual(['Z']);
    const since = Number(readProcStat(pid)!.startTime);
    const unsettled = await scanSession({ pgids: [pid], marker, since });
    expect(unsettled.members.map((entry) => entry.pid)).toEqual([pid]);
    expect(unsettled.settled).toBe(false);
    process.kill(pid, 'SIGKILL');
    // Gone, zombie and all: an empty scan.
    await expect.poll(async () => (await scanSession({ pgids: [pid], marker, since })).members, { timeout: 5000 }).toEqual([]);
    // Settled where no process younger than the session ends while it reads: whether one does is
    // the machine's (other tests fork and leave zombies meanwhile), so the session here is younger
    // than every process (only a pid that vanishes mid-scan, start unknown, unsettles it).
    await expect.poll(async () => scanSession({ pgids: [], marker, since: Number.MAX_SAFE_INTEGER }), { timeout: 5000 }).toEqual({ members: [], settled: true });
  });
});
