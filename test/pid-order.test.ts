/**
 * Scans read only the pids handed out since a session's leader was forked (pid-order.ts): the
 * rule on its own (wraps, several sessions, pids gone round), and on real processes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bornAfter, forkCount, pidsSince } from '../src/runtime/machine/pid-order.js';
import { readProcStat, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { scanSession } from '../src/runtime/machine/proc-scan.js';

describe('the pids handed out since a leader', () => {
  it('are those after it up to the last one, across a wrap of the cycle', () => {
    const plain = pidsSince([{ pid: 900, forksBefore: 10, tasksBefore: 0 }], { forksNow: 50, last: 1000, pidMax: 32_768 })!;
    expect([900, 901, 999, 1000].map(plain)).toEqual([true, true, true, true]);
    expect([899, 1001, 30_000, 1].map(plain)).toEqual([false, false, false, false]);

    const wrapped = pidsSince([{ pid: 32_000, forksBefore: 10, tasksBefore: 0 }], { forksNow: 2000, last: 500, pidMax: 32_768 })!;
    expect([32_000, 32_767, 300, 500].map(wrapped)).toEqual([true, true, true, true]);
    expect([31_999, 501, 20_000, 40_000].map(wrapped)).toEqual([false, false, false, false]);
  });

  it('of several sessions: the span of the oldest', () => {
    const both = pidsSince(
      [
        { pid: 950, forksBefore: 20, tasksBefore: 0 },
        { pid: 800, forksBefore: 10, tasksBefore: 0 },
      ],
      { forksNow: 100, last: 1000, pidMax: 32_768 },
    )!;
    expect([800, 900, 1000].map(both)).toEqual([true, true, true]);
    expect(both(799)).toBe(false);
  });

  it('cannot be told once as many forks as the cycle has pids may have happened', () => {
    expect(pidsSince([{ pid: 900, forksBefore: 0, tasksBefore: 0 }], { forksNow: 32_768 - 300, last: 1000, pidMax: 32_768 })).toBeNull();
    expect(pidsSince([{ pid: 900, forksBefore: 0, tasksBefore: 0 }], { forksNow: 32_768 - 301, last: 1000, pidMax: 32_768 })).not.toBeNull();
    // Allocation skips the pids in use then (three for each task alive, at most): it goes round with fewer forks.
    expect(pidsSince([{ pid: 900, forksBefore: 0, tasksBefore: 1000 }], { forksNow: 32_768 - 300 - 3000, last: 1000, pidMax: 32_768 })).toBeNull();
    expect(pidsSince([{ pid: 900, forksBefore: 0, tasksBefore: 1000 }], { forksNow: 32_768 - 301 - 3000, last: 1000, pidMax: 32_768 })).not.toBeNull();
    expect(
      pidsSince(
        [
          { pid: 950, forksBefore: 100, tasksBefore: 0 },
          { pid: 900, forksBefore: 200, tasksBefore: 1000 },
        ],
        { forksNow: 32_768 - 300 - 3000 + 200, last: 1000, pidMax: 32_768 },
      ),
    ).toBeNull();
    expect(bornAfter([{ pid: 900, forksBefore: 0, tasksBefore: 0 }], null)).toBeNull();
    expect(bornAfter([])).toBeNull();
  });

  it('on this machine: a child and what it forks are in, this process and its parent are not', async () => {
    const forksBefore = forkCount()!;
    expect(forksBefore).toBeGreaterThan(0);
    const child = spawn('sh', ['-c', 'sleep 60 & wait'], { detached: true, stdio: 'ignore' });
    onTestFinished(() => {
      process.kill(-child.pid!, 'SIGKILL');
    });
    await expect.poll(() => readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim()).not.toBe('');
    const grandchild = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim());
    const young = bornAfter([{ pid: child.pid!, forksBefore, tasksBefore: 0 }])!;
    expect(young).not.toBeNull();
    expect([child.pid!, grandchild].map(young)).toEqual([true, true]);
    expect([process.pid, process.ppid].map(young)).toEqual([false, false]);
  });
});

describe('a scan of a session with its birth', () => {
  it('finds its setsid escapee, and reads no process older than its leader', async () => {
    const marker = `pid-order-${process.pid}-${Date.now()}`;
    const env = { PATH: process.env.PATH ?? '', [SESSION_MARKER_VAR]: marker };
    // Older than the session, with its marker all the same: a whole scan finds it, a scan from the birth does not look.
    const older = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env });
    onTestFinished(() => {
      older.kill('SIGKILL');
    });
    const forksBefore = forkCount()!;
    const leader = spawn('sh', ['-c', 'setsid sleep 60 & exec sleep 60'], { detached: true, stdio: 'ignore', env });
    let escapee = 0;
    onTestFinished(() => {
      leader.kill('SIGKILL');
      if (escapee > 0) process.kill(escapee, 'SIGKILL');
    });
    // A lower bound of the session's start that the older process meets too.
    const since = Number(readProcStat(older.pid!)!.startTime);
    const target = { pgids: [leader.pid!], marker, since };
    await expect.poll(async () => (await scanSession(target)).members.length, { timeout: 5000 }).toBe(3);
    const whole = (await scanSession(target)).members.map((entry) => entry.pid);
    expect(whole).toContain(older.pid);
    escapee = whole.find((pid) => pid !== leader.pid && pid !== older.pid)!;
    expect(readProcStat(escapee)?.pgrp).toBe(escapee);

    const ranged = await scanSession({ ...target, birth: { pid: leader.pid!, forksBefore, tasksBefore: 0 } });
    expect(ranged.members.map((entry) => entry.pid).sort()).toEqual([leader.pid!, escapee].sort());
  });
});
