// Shared pieces of the benchmarks: every started process is tracked and killed at the end (even on
// failure); every wait has a deadline; medians; the RSS and CPU time of a process from /proc.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tracked = new Set();
const dirs = new Set();

export function track(pid) {
  if (pid !== undefined) tracked.add(pid);
  return pid;
}

export function scratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `tend-bench-${prefix}-`));
  dirs.add(dir);
  return dir;
}

/** Kills every tracked process group and process, and everything carrying BENCH_RUN. */
export function cleanup() {
  for (const pid of tracked) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {}
    }
  }
  tracked.clear();
  for (const pid of pidsWithEnv('BENCH_RUN', process.env.BENCH_RUN)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

export function pidsWithEnv(name, value) {
  const needle = Buffer.from(`${name}=${value}\0`);
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`).includes(needle)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(what, check, { timeoutMs = 120_000, intervalMs = 2 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/** CPU seconds (user + system) the process itself used; children are not counted. */
/**
 * The CPU a process has used (all its threads), in seconds, as the scheduler counts it
 * (`/proc/PID/task/TID/schedstat`, in ns): the tick-sampled utime and stime have 10 ms steps, a
 * whole 0.1 % of a 10 s window.
 */
export function cpuSeconds(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'latin1').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e9;
}

export function readPids(dir, names) {
  return names.map((name) => Number(readFileSync(join(dir, name), 'utf8').trim()));
}

export function allExist(dir, names) {
  return names.every((name) => {
    const path = join(dir, name);
    return existsSync(path) && readFileSync(path, 'utf8').trim() !== '';
  });
}

export function run(command, args, options = {}) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024, ...options });
}

export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, { stdio: 'ignore', ...options });
  track(child.pid);
  return child;
}
