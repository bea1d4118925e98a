/**
 * A scan for some sessions skips the processes of this process's other sessions once it has read
 * them (proc-scan.ts, `elsewhere`), and still finds every member of the sessions it is for: a
 * descendant that carries a marker of a session it was never asked about (a tend inside a
 * service) included. The stat reads are counted through a wrapper of proc.js's own reader.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { cannotHaveBeenReused, forkCount } from '../src/runtime/machine/pid-order.js';
import { readProcStat, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { scanSession } from '../src/runtime/machine/proc-scan.js';

const reads = vi.hoisted(() => new Map<number, number>());

vi.mock('../src/runtime/machine/proc.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/runtime/machine/proc.js')>();
  return {
    ...original,
    readProcStat: (pid: number) => {
      reads.set(pid, (reads.get(pid) ?? 0) + 1);
      return original.readProcStat(pid);
    },
  };
});

/** `sh -c COMMAND` in its own process group with `marker`, killed (group and all) when the test ends. */
function session(marker: string, command: string): number {
  const child = spawn('sh', ['-c', command], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '', [SESSION_MARKER_VAR]: marker } });
  onTestFinished(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  return child.pid!;
}

describe('a scan for some of its sessions', () => {
  it("skips the processes of its other sessions once read, and reads its own sessions' every time", async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const one = { marker: `one-${tag}`, pid: 0 };
    const two = { marker: `two-${tag}`, pid: 0 };
    const forksBefore = forkCount()!;
    one.pid = session(one.marker, 'exec sleep 60');
    two.pid = session(two.marker, 'exec sleep 60');
    const target = (of: typeof one) => ({ pgids: [of.pid], marker: of.marker, since: Number(readProcStat(of.pid)!.startTime), birth: { pid: of.pid, forksBefore, tasksBefore: 0 } });
    await expect.poll(async () => (await scanSession(target(one))).members.length, { timeout: 5000 }).toBe(1);
    await expect.poll(async () => (await scanSession(target(two))).members.length, { timeout: 5000 }).toBe(1);

    const [targetOne, targetTwo] = [target(one), target(two)];
    reads.clear();
    const first = await scanSession(targetOne);
    const second = await scanSession(targetOne);
    expect([...first.members, ...second.members].map((entry) => entry.pid)).toEqual([one.pid, one.pid]);
    // Its own process is read by every scan; the other session's by none.
    expect(reads.get(one.pid)).toBe(2);
    expect(reads.get(two.pid) ?? 0).toBe(0);
    // Asked about again, the other session is read and found.
    expect((await scanSession(targetTwo)).members.map((entry) => entry.pid)).toEqual([two.pid]);
    expect(reads.get(two.pid)).toBe(1);
  });

  it('still finds a descendant that carries the marker of a session it was never asked about', async () => {
    const tag = `${process.pid}-${Date.now()}`;
    const outer = `outer-${tag}`;
    const forksBefore = forkCount()!;
    // A tend inside the service: its own service, in a session of its own, with its own marker.
    const pid = session(outer, `${SESSION_MARKER_VAR}=inner-${tag} setsid sleep 60 & exec sleep 60`);
    const target = () => ({ pgids: [pid], marker: outer, since: Number(readProcStat(pid)!.startTime), birth: { pid, forksBefore, tasksBefore: 0 } });
    // Until the inner one has called setsid (before, it is in the outer group, and its environment may still be the shell's).
    const escaped = async (): Promise<number | undefined> =>
      (await scanSession(target())).members.map((entry) => entry.pid).find((member) => member !== pid && readProcStat(member)?.pgrp === member && /^sleep/.test(readFileSync(`/proc/${member}/comm`, 'utf8')));
    await expect.poll(escaped, { timeout: 5000 }).toBeDefined();
    const inner = (await escaped())!;
    onTestFinished(() => {
      try {
        process.kill(inner, 'SIGKILL');
      } catch {
        // gone
      }
    });
    expect(readFileSync(`/proc/${inner}/environ`, 'latin1')).toContain(`${SESSION_MARKER_VAR}=inner-${tag}`);
    expect((await scanSession(target())).members.map((entry) => entry.pid).sort()).toEqual([pid, inner].sort());
  });
});

describe('whether a pid can have been handed out again since it was read', () => {
  const then = { forks: 1000, last: 5000, tasks: 400, pidMax: 32_768 };

  it('cannot while allocation has not moved round to it: forks, and the pids in use it passes', () => {
    // 4800, read when the last pid was 5000: allocation must go round (32,768 - 5,000 + 4,800 - 300 = 32,268 pids).
    expect(cannotHaveBeenReused(4800, then, { ...then, forks: 1100 })).toBe(true);
    // Forks since, and 3 pids for each of the 400 tasks alive then: 31,067 + 1,200 < 32,268; 31,068 + 1,200 is not.
    expect(cannotHaveBeenReused(4800, then, { ...then, forks: 1000 + 31_067 })).toBe(true);
    expect(cannotHaveBeenReused(4800, then, { ...then, forks: 1000 + 31_068 })).toBe(false);
    // A pid above the last one then was handed out in the lap before: allocation is 200 pids from it.
    expect(cannotHaveBeenReused(5200, then, { ...then, forks: 1000 })).toBe(false);
    expect(cannotHaveBeenReused(5200, { ...then, tasks: 10 }, { ...then, forks: 1000 + 169 })).toBe(true);
    expect(cannotHaveBeenReused(5200, { ...then, tasks: 10 }, { ...then, forks: 1000 + 170 })).toBe(false);
  });

  it('can, as far as it can tell, once the count went back or the cycle changed', () => {
    expect(cannotHaveBeenReused(4800, then, { ...then, forks: 999 })).toBe(false);
    expect(cannotHaveBeenReused(4800, then, { ...then, pidMax: 4_194_304 })).toBe(false);
  });
});
