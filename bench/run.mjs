#!/usr/bin/env node
// tend against the floor (child_process.spawn, a bash loop) and against pm2 and supervisord, on the
// same workloads, in one run. Prints one markdown table of medians and ratios.
//
//   bench/run [--n 10,100,500] [--repeat 3] [--only W1,W2,...] [--skip-peers] [--out FILE]
//
// Not a test: nothing here runs in `npm test` or CI.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  allExist,
  alive,
  cleanup,
  cpuSeconds,
  median,
  readPids,
  rssMiB,
  run,
  scratch,
  sleep,
  spawnTracked,
  track,
  waitFor,
} from './lib/common.mjs';
import { pm2Available, startPm2, startSupervisord, startTend, supervisordAvailable } from './lib/systems.mjs';
import { chromiumAvailable, dashboardLoad } from './lib/dashboard.mjs';

const WORKLOADS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W6b', 'W7', 'W8', 'W9', 'W10'];
const USAGE = `usage: bench/run [--n 10,100,500] [--repeat 3] [--only W1,W2,...] [--skip-peers] [--out FILE]
  --n          the sizes of W1 and W2 (services started and stopped)
  --repeat     runs of each workload (the table shows medians)
  --only       the workloads to run: ${WORKLOADS.join(',')}
  --skip-peers tend and the floor only (no pm2, no supervisord)
  --out        also write the table to FILE
  TEND_BENCH_CLI=<dist/cli/main.js> runs another build of tend (paired measurements);
  TEND_BENCH_PROFILE=<dir> writes a CPU profile of every tend daemon
See bench/README.md.`;
const VALUED = ['n', 'repeat', 'only', 'out'];
const args = process.argv.slice(2);
function usageError(message) {
  console.error(`bench/run: ${message}\n${USAGE}`);
  process.exit(2);
}
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
for (let i = 0; i < args.length; i++) {
  const name = args[i].replace(/^--/, '');
  if (VALUED.includes(name) && args[i].startsWith('--')) {
    if (args[i + 1] === undefined || args[i + 1].startsWith('--')) usageError(`${args[i]} needs a value`);
    i++;
  } else if (args[i] !== '--skip-peers') {
    usageError(`unknown argument ${args[i]}`);
  }
}
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const SIZES = option('n', '10,100,500').split(',').map(Number);
const REPEAT = Number(option('repeat', '3'));
const ONLY = option('only', WORKLOADS.join(',')).split(',');
const OUT = option('out', undefined);
const SKIP_PEERS = args.includes('--skip-peers');
if (SIZES.some((n) => !Number.isInteger(n) || n < 1)) usageError(`--n takes sizes like 10,100,500, not ${option('n')}`);
if (!Number.isInteger(REPEAT) || REPEAT < 1) usageError(`--repeat takes a count of at least 1, not ${option('repeat')}`);
const unknownWorkloads = ONLY.filter((name) => !WORKLOADS.includes(name));
if (unknownWorkloads.length > 0) usageError(`no workload ${unknownWorkloads.join(', ')}`);
process.env.BENCH_RUN = randomUUID();

const rows = [];
const notes = [];
const fmt = (seconds) => (seconds === undefined ? '-' : seconds < 1 ? `${(seconds * 1000).toFixed(0)} ms` : `${seconds.toFixed(2)} s`);
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}×`);
function row(workload, n, values, unit = fmt, lowerIsBetter = true) {
  const { floor, pm2, supervisord, tend } = values;
  const peers = [pm2, supervisord].filter((value) => value !== undefined);
  const bestPeer = peers.length === 0 ? undefined : lowerIsBetter ? Math.min(...peers) : Math.max(...peers);
  rows.push([workload, String(n), unit(floor), unit(pm2), unit(supervisord), unit(tend), ratio(tend, floor), ratio(tend, bestPeer)]);
  console.error(`  ${workload} n=${n}: floor ${unit(floor)}, pm2 ${unit(pm2)}, supervisord ${unit(supervisord)}, tend ${unit(tend)}`);
}

const peers = { pm2: null, supervisord: null };
if (SKIP_PEERS) {
  peers.pm2 = peers.supervisord = 'skipped (--skip-peers)';
} else {
  peers.pm2 = pm2Available();
  peers.supervisord = supervisordAvailable();
}
for (const [name, reason] of Object.entries(peers)) if (reason !== null) notes.push(`${name}: not measured: ${reason}`);

const serviceCommand = (dir, name) => `echo $$ > ${dir}/${name}; exec sleep 3600`;
const names = (n, prefix = 's') => Array.from({ length: n }, (_, index) => `${prefix}${index}`);
const gone = (pids) => pids.every((pid) => !alive(pid));

// ---- W1 cold start and W2 stop, per system --------------------------------------------------

async function floorUpDown(n) {
  const dir = scratch('floor');
  const list = names(n);
  const start = performance.now();
  for (const name of list) spawnTracked('/bin/sh', ['-c', serviceCommand(dir, name)], { detached: true });
  await waitFor('floor services', () => allExist(dir, list));
  const up = (performance.now() - start) / 1000;
  const pids = readPids(dir, list);
  const stopStart = performance.now();
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  await waitFor('floor stop', () => gone(pids));
  return { up, down: (performance.now() - stopStart) / 1000 };
}

async function bashUp(n) {
  const dir = scratch('bash');
  const list = names(n);
  const start = performance.now();
  const child = spawnTracked('bash', ['-c', `for i in $(seq 0 ${n - 1}); do sh -c 'echo $$ > ${dir}/s'$i'; exec sleep 3600' & done; wait`], { detached: true });
  await waitFor('bash services', () => allExist(dir, list));
  const up = (performance.now() - start) / 1000;
  process.kill(-child.pid, 'SIGKILL');
  return up;
}

/** The W1 services (pid file, ready once it is written) on a tend, through its automations file; their ids. */
async function defineServices(tend, dir, list) {
  await tend.call('UpsertAutomationsFile', {
    automationsFile: { services: Object.fromEntries(list.map((name) => [name, { commands: { start: serviceCommand(dir, name), ready: `test -s ${dir}/${name}` } }])) },
  });
  return (await tend.listAll('ListServices', 'services')).map((service) => service.id);
}

/**
 * The StopService calls of every id through `connections` kept-alive connections, as a client
 * with a connection pool sends them (a browser holds six per origin): the daemon then gets them
 * a few at a time, not all at once.
 */
async function stopPooled(tend, ids, connections) {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(tend.url);
  const stop = (id) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ id });
      const headers = { authorization: `Bearer ${tend.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const call = httpRequest({ agent, host: hostname, port, method: 'POST', path: '/gitpod.v1.EnvironmentAutomationService/StopService', headers }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`StopService: HTTP ${response.statusCode}`))));
      });
      call.on('error', reject);
      call.end(body);
    });
  try {
    await Promise.all(ids.map(stop));
  } finally {
    agent.destroy();
  }
}

/**
 * W1 and W2 on tend. `how`: undefined, a StopService call each, all at once; a number, those
 * calls through that many kept-alive connections; 'stop', `tend stop` (every service, one call);
 * 'down', `tend down`.
 */
async function tendUpDown(n, how) {
  const tend = await startTend();
  try {
    const dir = tend.dir;
    const list = names(n);
    const ids = await defineServices(tend, dir, list);
    const start = performance.now();
    await Promise.all(ids.map((id) => tend.call('StartService', { id })));
    await waitFor('tend services RUNNING', async () => (await tend.listAll('ListServices', 'services')).every((service) => service.status.phase === 'SERVICE_PHASE_RUNNING'), { intervalMs: 10 });
    const up = (performance.now() - start) / 1000;
    const pids = readPids(dir, list);
    const stopStart = performance.now();
    if (how === undefined) await Promise.all(ids.map((id) => tend.call('StopService', { id })));
    else if (how === 'down') tend.down();
    else if (how === 'stop') tend.stopAll();
    else await stopPooled(tend, ids, how);
    await waitFor('tend stop', () => gone(pids));
    return { up, down: (performance.now() - stopStart) / 1000 };
  } finally {
    await tend.stop();
  }
}

/** `how`: the pm2 command that stops them ('stop all', or 'kill': the daemon too). */
async function pm2UpDown(n, how = 'stop all') {
  const pm2 = await startPm2();
  try {
    const dir = scratch('pm2-w1');
    const list = names(n);
    const config = pm2.ecosystem(list.map((name) => pm2.app(name, serviceCommand(dir, name))));
    const start = performance.now();
    pm2.pm2('start', config);
    await waitFor('pm2 services', () => allExist(dir, list) && pm2.list().filter((app) => app.pm2_env.status === 'online').length === n, { intervalMs: 20 });
    const up = (performance.now() - start) / 1000;
    const pids = readPids(dir, list);
    const stopStart = performance.now();
    pm2.pm2(...how.split(' '));
    await waitFor('pm2 stop', () => gone(pids));
    return { up, down: (performance.now() - stopStart) / 1000 };
  } finally {
    pm2.stop();
  }
}

/** `how`: the supervisorctl command that stops them ('stop all', or 'shutdown': supervisord too). */
async function supervisordUpDown(n, how = 'stop all') {
  const dir = scratch('sv-w1');
  const list = names(n);
  const sv = await startSupervisord(list.map((name) => ({ name, command: serviceCommand(dir, name) })));
  try {
    const start = performance.now();
    sv.ctl('start', 'all');
    await waitFor('supervisord services', () => allExist(dir, list) && sv.statuses().every(([, state]) => state === 'RUNNING'), { intervalMs: 20 });
    const up = (performance.now() - start) / 1000;
    const pids = readPids(dir, list);
    const stopStart = performance.now();
    sv.ctl(...how.split(' '));
    await waitFor('supervisord stop', () => gone(pids));
    return { up, down: (performance.now() - stopStart) / 1000 };
  } finally {
    await sv.stop();
  }
}

async function repeat(times, fn) {
  const results = [];
  for (let index = 0; index < times; index++) {
    results.push(await fn());
    cleanup();
  }
  return results;
}

async function w1w2() {
  for (const n of SIZES) {
    const floor = await repeat(REPEAT, () => floorUpDown(n));
    const bash = await repeat(REPEAT, () => bashUp(n));
    const tend = await repeat(REPEAT, () => tendUpDown(n));
    const tendPooled = await repeat(REPEAT, () => tendUpDown(n, 16));
    const tendStop = await repeat(REPEAT, () => tendUpDown(n, 'stop'));
    const tendDown = await repeat(REPEAT, () => tendUpDown(n, 'down'));
    const pm2 = peers.pm2 === null ? await repeat(REPEAT, () => pm2UpDown(n)) : undefined;
    const sv = peers.supervisord === null ? await repeat(REPEAT, () => supervisordUpDown(n)) : undefined;
    const pm2Kill = peers.pm2 === null ? await repeat(REPEAT, () => pm2UpDown(n, 'kill')) : undefined;
    const svShutdown = peers.supervisord === null ? await repeat(REPEAT, () => supervisordUpDown(n, 'shutdown')) : undefined;
    const up = (list) => list && median(list.map((result) => result.up));
    const down = (list) => list && median(list.map((result) => result.down));
    row('W1 cold start', n, { floor: up(floor), pm2: up(pm2), supervisord: up(sv), tend: up(tend) });
    notes.push(`W1 n=${n}: bash loop ${fmt(median(bash))}`);
    row('W2 stop (tend: a StopService call per service, at once; `pm2 stop all`, `supervisorctl stop all`)', n, { floor: down(floor), pm2: down(pm2), supervisord: down(sv), tend: down(tend) });
    row('W2 stop, the calls through 16 kept-alive connections', n, { floor: down(floor), pm2: down(pm2), supervisord: down(sv), tend: down(tendPooled) });
    row('W2 stop every service by its command, the supervisor going on (`tend stop`, `pm2 stop all`, `supervisorctl stop all`)', n, { floor: down(floor), pm2: down(pm2), supervisord: down(sv), tend: down(tendStop) });
    row('W2 stop everything and the supervisor (`tend down`, `pm2 kill`, `supervisorctl shutdown`)', n, { floor: down(floor), pm2: down(pm2Kill), supervisord: down(svShutdown), tend: down(tendDown) });
  }
}

// ---- W2b: SIGTERM ignored, and a `sleep & sleep` tree --------------------------------------------

async function w2Extras() {
  const stubborn = "trap '' TERM; echo $$ > $DIR/pid; while :; do sleep 0.1; done";
  const tree = 'sh -c "echo \\$\\$ >> $DIR/tree; exec sleep 3600" & sh -c "echo \\$\\$ >> $DIR/tree; exec sleep 3600" & wait';
  // tend, 2 s stop timeout
  const tend = await startTend({ stopTimeout: '2s' });
  let tendKill;
  let tendSurvivors;
  try {
    const dir = tend.dir;
    const make = async (reference, start) =>
      (await tend.call('CreateService', { metadata: { reference }, spec: { commands: { start: start.replaceAll('$DIR', dir) } } })).service.id;
    const a = await make('stubborn', stubborn);
    await tend.call('StartService', { id: a });
    await waitFor('stubborn pid', () => allExist(dir, ['pid']));
    const pid = readPids(dir, ['pid'])[0];
    const t0 = performance.now();
    await tend.call('StopService', { id: a });
    await waitFor('stubborn gone', () => !alive(pid));
    tendKill = (performance.now() - t0) / 1000;
    const b = await make('tree', tree);
    await tend.call('StartService', { id: b });
    const treeFile = () => (existsSync(join(dir, 'tree')) ? readFileSync(join(dir, 'tree'), 'utf8').trim().split('\n').filter(Boolean) : []);
    await waitFor('tree pids', () => treeFile().length === 2, { timeoutMs: 30_000 }).catch(async () => {
      const { service } = await tend.call('GetService', { id: b });
      console.error(`  W2 tree did not start: ${service.status.phase} ${service.status.failureMessage ?? ''}`);
    });
    const treePids = treeFile().map(Number);
    await tend.call('StopService', { id: b });
    await waitFor('tree stopped', async () => (await tend.call('GetService', { id: b })).service.status.phase === 'SERVICE_PHASE_STOPPED');
    tendSurvivors = treePids.filter(alive).length;
  } finally {
    await tend.stop();
    cleanup();
  }
  let svSurvivors;
  if (peers.supervisord === null) {
    const dir = scratch('sv-tree');
    const sv = await startSupervisord([{ name: 'tree', command: tree.replaceAll('$DIR', dir), startsecs: 0 }]);
    try {
      sv.ctl('start', 'tree');
      await waitFor('tree pids', () => {
        try {
          return readFileSync(join(dir, 'tree'), 'utf8').trim().split('\n').length === 2;
        } catch {
          return false;
        }
      });
      const treePids = readFileSync(join(dir, 'tree'), 'utf8').trim().split('\n').map(Number);
      sv.ctl('stop', 'tree');
      await sleep(500);
      svSurvivors = treePids.filter(alive).length;
    } finally {
      await sv.stop();
      cleanup();
    }
  }
  notes.push(`W2 SIGTERM ignored: tend killed it after ${fmt(tendKill)} (stop timeout 2 s)`);
  notes.push(`W2 \`sleep & sleep\` tree: survivors after stop: tend ${tendSurvivors}, supervisord ${svSurvivors ?? '-'} (must be 0)`);
}

// ---- W3 idle --------------------------------------------------------------------------------------

/** A field of /proc/PID/smaps_rollup, in KiB. */
function smapsKiB(pid, field) {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'))?.[1] ?? 0);
}

async function idleUsage(pid, seconds = 10) {
  const cpu0 = cpuSeconds(pid);
  const rss = [];
  for (let index = 0; index < seconds; index++) {
    await sleep(1000);
    rss.push(rssMiB(pid));
  }
  return { rss: median(rss), cpu: ((cpuSeconds(pid) - cpu0) / seconds) * 100 };
}

/**
 * Idle is measured once each system has had 10 s without a request (the same for all): what a
 * start leaves to do later (V8 giving back the young generation it grew, pm2's first metrics)
 * is not idle.
 */
const IDLE_SETTLE_MS = 10_000;

async function w3() {
  const n = 100;
  const results = {};
  {
    const dir = scratch('floor-idle');
    const script = `const { spawn } = require('child_process'); for (let i = 0; i < ${n}; i++) spawn('/bin/sh', ['-c', 'exec sleep 3600'], { detached: true, stdio: 'ignore' }); setInterval(() => {}, 1 << 30);`;
    const child = spawnTracked(process.execPath, ['-e', script], { cwd: dir, detached: true });
    await sleep(IDLE_SETTLE_MS);
    results.floor = await idleUsage(child.pid);
    process.kill(-child.pid, 'SIGKILL');
  }
  cleanup();
  {
    const tend = await startTend();
    try {
      const list = names(n);
      await tend.call('UpsertAutomationsFile', { automationsFile: { services: Object.fromEntries(list.map((name) => [name, { commands: { start: 'exec sleep 3600' }, triggeredBy: ['manual'] }])) } });
      await tend.call('FireTrigger', { triggers: ['manual'] }, 'tend.v1.DaemonService');
      await waitFor('idle services', async () => (await tend.listAll('ListServices', 'services')).every((service) => service.status.phase === 'SERVICE_PHASE_RUNNING'));
      await sleep(IDLE_SETTLE_MS);
      results.tend = await idleUsage(tend.pid);
      // The spawner (a Node.js process of its own) is tend's too: its memory beside the daemon's.
      for (const helper of tendProcesses(tend.pid).helpers.slice(1)) {
        const mib = (pid, ...fields) => fields.reduce((sum, field) => sum + smapsKiB(pid, field), 0) / 1024;
        notes.push(
          `W3 tend's spawner process: RSS ${mib(helper, 'Rss').toFixed(1)} MiB, of it private ${mib(helper, 'Private_Clean', 'Private_Dirty').toFixed(1)} MiB (the rest is Node's code, shared with the daemon; the daemon's private memory: ${mib(tend.pid, 'Private_Clean', 'Private_Dirty').toFixed(1)} MiB)`,
        );
      }
    } finally {
      await tend.stop();
      cleanup();
    }
  }
  if (peers.pm2 === null) {
    const pm2 = await startPm2();
    try {
      pm2.pm2('start', pm2.ecosystem(names(n).map((name) => pm2.app(name, 'exec sleep 3600'))));
      await sleep(IDLE_SETTLE_MS);
      results.pm2 = await idleUsage(pm2.pid);
    } finally {
      pm2.stop();
      cleanup();
    }
  }
  if (peers.supervisord === null) {
    const sv = await startSupervisord(names(n).map((name) => ({ name, command: 'exec sleep 3600' })));
    try {
      sv.ctl('start', 'all');
      await sleep(IDLE_SETTLE_MS);
      results.supervisord = await idleUsage(sv.pid);
    } finally {
      await sv.stop();
      cleanup();
    }
  }
  const pick = (key) => Object.fromEntries(Object.entries(results).map(([name, value]) => [name, value[key]]));
  row('W3 idle RSS (MiB)', n, pick('rss'), (value) => (value === undefined ? '-' : value.toFixed(1)));
  row('W3 idle CPU (%)', n, pick('cpu'), (value) => (value === undefined ? '-' : value.toFixed(2)));
}

// ---- W4 logs --------------------------------------------------------------------------------------

const LINES = 3_276_800; // 64-byte lines: 200 MiB
const LOG_BYTES = LINES * 64;
const generator = `seq -f '%063.0f' 1 ${LINES}`;

/** Counts lines lost or torn in a log file of numbered 64-byte lines. */
function checkLog(path) {
  const data = readFileSync(path);
  let expected = 1;
  let bad = 0;
  let start = 0;
  for (let index = 0; index < data.length; index++) {
    if (data[index] !== 0x0a) continue;
    const line = data.subarray(start, index);
    if (line.length !== 63 || Number(line.toString()) !== expected) bad += 1;
    expected += 1;
    start = index + 1;
  }
  return { bad: bad + Math.abs(LINES - (expected - 1)), lines: expected - 1 };
}

/** Samples a process's RSS every 20 ms; `stop()` returns how much it grew at its peak (MiB). */
function rssGrowth(pid) {
  const rss0 = rssMiB(pid);
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  return {
    stop: () => {
      clearInterval(sampler);
      return peak - rss0;
    },
  };
}

async function waitLog(path) {
  await waitFor('the log to hold everything', () => {
    try {
      return statSync(path).size >= LOG_BYTES;
    } catch {
      return false;
    }
  }, { timeoutMs: 300_000, intervalMs: 5 });
}

async function w4() {
  const times = {};
  const lost = {};
  const growth = {};
  {
    const dir = scratch('floor-log');
    const path = join(dir, 'out.log');
    const fd = openSync(path, 'a');
    const start = performance.now();
    const child = spawn('/bin/sh', ['-c', generator], { stdio: ['ignore', fd, fd], detached: true });
    track(child.pid);
    closeSync(fd);
    await waitLog(path);
    times.floor = (performance.now() - start) / 1000;
    lost.floor = checkLog(path).bad;
  }
  cleanup();
  {
    const tend = await startTend({ extraArgs: ['--max-log-size', '1GiB'] });
    try {
      const { service } = await tend.call('CreateService', { metadata: { reference: 'chatty' }, spec: { commands: { start: generator } } });
      const sampling = rssGrowth(tend.pid);
      const start = performance.now();
      await tend.call('StartService', { id: service.id });
      // The log is named by the run (the last part of its logUrl), not by the session.
      const logUrl = await waitFor('session', async () => (await tend.call('GetService', { id: service.id })).service.status.logUrl);
      const path = join(tend.stateDir, 'logs', `${logUrl.slice(logUrl.lastIndexOf('/') + 1)}.log`);
      await waitLog(path);
      times.tend = (performance.now() - start) / 1000;
      growth.tend = sampling.stop();
      lost.tend = checkLog(path).bad;
    } finally {
      await tend.stop();
      cleanup();
    }
  }
  if (peers.pm2 === null) {
    const pm2 = await startPm2();
    try {
      const sampling = rssGrowth(pm2.pid);
      const start = performance.now();
      pm2.pm2('start', pm2.ecosystem([pm2.app('chatty', generator, { merge_logs: true, out_file: join(pm2.logDir, 'chatty.log'), error_file: join(pm2.logDir, 'chatty.err') })]));
      await waitLog(join(pm2.logDir, 'chatty.log')).catch(() => {});
      times.pm2 = (performance.now() - start) / 1000;
      growth.pm2 = sampling.stop();
      lost.pm2 = checkLog(join(pm2.logDir, 'chatty.log')).bad;
    } finally {
      pm2.stop();
      cleanup();
    }
  }
  if (peers.supervisord === null) {
    const dir = scratch('sv-log');
    const path = join(dir, 'chatty.log');
    const sv = await startSupervisord([{ name: 'chatty', command: generator, startsecs: 0, logfile: path }]);
    try {
      const sampling = rssGrowth(sv.pid);
      const start = performance.now();
      sv.ctl('start', 'chatty');
      await waitLog(path);
      times.supervisord = (performance.now() - start) / 1000;
      growth.supervisord = sampling.stop();
      lost.supervisord = checkLog(path).bad;
    } finally {
      await sv.stop();
      cleanup();
    }
  }
  row('W4 200 MiB of log lines', 1, times);
  row('W4 lines lost or torn', 1, lost, (value) => (value === undefined ? '-' : String(value)));
  row('W4 daemon RSS growth (MiB)', 1, growth, (value) => (value === undefined ? '-' : value.toFixed(1)));
}

// ---- W5 fan-out -------------------------------------------------------------------------------------

async function w5() {
  const fan = 200;
  const chain = 50;
  const results = { fan: {}, chain: {}, busy: {} };
  /** A developer's machine runs hundreds of processes (an IDE, its language servers, a browser). */
  const busy = 500;
  {
    // In a fresh small process: forks of a big process (this one, after W4) are slower.
    const runs = Array.from({ length: REPEAT }, () =>
      JSON.parse(run(process.execPath, [join(import.meta.dirname, 'lib/floor-fanout.mjs'), String(fan), String(chain)])),
    );
    results.fan.floor = median(runs.map((entry) => entry.fan));
    results.chain.floor = median(runs.map((entry) => entry.chain));
  }
  {
    const tend = await startTend();
    try {
      const tasks = Object.fromEntries(names(fan, 't').map((name) => [name, { command: 'true' }]));
      tasks.fan = { command: 'true', dependsOn: names(fan, 't') };
      for (let step = 0; step < chain; step++) tasks[`c${step}`] = { command: 'true', ...(step > 0 ? { dependsOn: [`c${step - 1}`] } : {}) };
      await tend.call('UpsertAutomationsFile', { automationsFile: { tasks } });
      const byRef = Object.fromEntries((await tend.listAll('ListTasks', 'tasks')).map((task) => [task.metadata.reference, task.id]));
      // Waits as `tend tasks start --wait` does: the execution is read again on each of its events.
      const time = async (reference) => {
        let executionId;
        let settle;
        const done = new Promise((resolve, reject) => (settle = { resolve, reject }));
        const check = async () => {
          const phase = (await tend.call('GetTaskExecution', { id: executionId })).taskExecution.status.phase;
          if (phase === 'TASK_EXECUTION_PHASE_FAILED') settle.reject(new Error('execution failed'));
          if (phase === 'TASK_EXECUTION_PHASE_SUCCEEDED') settle.resolve();
        };
        const watch = await tend.watchEvents((event) => {
          if (executionId !== undefined && event.resourceId === executionId) check().catch(settle.reject);
        });
        try {
          const start = performance.now();
          executionId = (await tend.call('StartTask', { id: byRef[reference] })).taskExecution.id;
          await check();
          await Promise.race([done, sleep(120_000).then(() => Promise.reject(new Error('the execution did not end in 2 minutes')))]);
          return (performance.now() - start) / 1000;
        } finally {
          watch.close();
        }
      };
      const fanTimes = [];
      const chainTimes = [];
      for (let index = 0; index < REPEAT; index++) {
        fanTimes.push(await time('fan'));
        chainTimes.push(await time(`c${chain - 1}`));
      }
      results.fan.tend = median(fanTimes);
      results.chain.tend = median(chainTimes);
      // The same chain with 500 more processes on the machine (each step's sweep looks at /proc).
      Array.from({ length: busy }, () => spawnTracked('sleep', ['3600']));
      // Those forks held this process's loop for seconds: let it see the connections the daemon closed meanwhile.
      await sleep(200);
      const busyTimes = [];
      for (let index = 0; index < REPEAT; index++) busyTimes.push(await time(`c${chain - 1}`));
      results.busy = { floor: results.chain.floor, tend: median(busyTimes) };
    } finally {
      await tend.stop();
      cleanup();
    }
  }
  if (peers.pm2 === null) {
    const pm2 = await startPm2();
    try {
      const list = names(fan, 'o');
      const start = performance.now();
      pm2.pm2('start', pm2.ecosystem(list.map((name) => pm2.app(name, 'true'))));
      await waitFor('pm2 one-shots', () => pm2.list().filter((app) => app.pm2_env.status === 'stopped').length === fan, { intervalMs: 20 });
      results.fan.pm2 = (performance.now() - start) / 1000;
    } finally {
      pm2.stop();
      cleanup();
    }
  }
  if (peers.supervisord === null) {
    const list = names(fan, 'o');
    const sv = await startSupervisord(list.map((name) => ({ name, command: 'true', startsecs: 0 })));
    try {
      const start = performance.now();
      sv.ctl('start', 'all');
      await waitFor('supervisord one-shots', () => sv.statuses().every(([, state]) => state === 'EXITED'), { intervalMs: 20 });
      results.fan.supervisord = (performance.now() - start) / 1000;
    } finally {
      await sv.stop();
      cleanup();
    }
  }
  row('W5 fan-out (200 one-shots)', fan, results.fan);
  row('W5 chain of 50 tasks', chain, results.chain);
  row(`W5 chain of 50 tasks, ${busy} more processes on the machine`, chain, results.busy);
}

// ---- W6 readiness latency (tend) -------------------------------------------------------------------

async function w6() {
  const tend = await startTend();
  const latencies = [];
  try {
    const dir = tend.dir;
    for (let index = 0; index < 20; index++) {
      const flag = join(dir, `ready-${index}`);
      const { service } = await tend.call('CreateService', { metadata: { reference: `r${index}` }, spec: { commands: { start: 'exec sleep 3600', ready: `test -f ${flag}` } } });
      await tend.call('StartService', { id: service.id });
      await waitFor('STARTING', async () => (await tend.call('GetService', { id: service.id })).service.status.phase === 'SERVICE_PHASE_STARTING');
      await sleep(300);
      writeFileSync(flag, '');
      const readyAt = performance.now();
      await waitFor('RUNNING', async () => (await tend.call('GetService', { id: service.id })).service.status.phase === 'SERVICE_PHASE_RUNNING', { intervalMs: 1 });
      latencies.push((performance.now() - readyAt) / 1000);
      await tend.call('StopService', { id: service.id });
    }
  } finally {
    await tend.stop();
    cleanup();
  }
  row('W6 readiness latency (ready 300 ms after start)', 20, { tend: median(latencies) });
}

// ---- W6b readiness latency of slow services, and what their wait costs (tend) ---------------------

/**
 * The CPU seconds of `pids`, every thread's (the scheduler's own count, to the nanosecond: the
 * tick-sampled user + system time of /proc/PID/stat charges processes that wake often on short
 * timers, such as 100 probe shells, two to three times what they ran), and of what they reaped
 * (their probes: only ticks are kept for those).
 */
function cpuOf(pids) {
  let own = 0;
  let reaped = 0;
  for (const pid of pids) {
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) own += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'latin1').split(' ')[0]) / 1e9;
      const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
      reaped += (Number(fields[13]) + Number(fields[14])) / 100;
    } catch {}
  }
  return { own, reaped };
}

/**
 * tend's processes: the daemon and the Node.js helpers it runs (its spawner), and its shells
 * (probe shells, the shell of plain tests: children of the daemon or of the spawner, whose scripts
 * name `__tend_`), not the services' own processes.
 */
function tendProcesses(pid) {
  const helpers = [pid];
  const others = [];
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  for (const [child, parent] of parents) {
    if (parent !== pid) continue;
    try {
      if (readlinkSync(`/proc/${child}/exe`) === process.execPath) helpers.push(child);
      else others.push(child);
    } catch {}
  }
  for (const [child, parent] of parents) {
    if (parent === pid || !helpers.includes(parent)) continue;
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'latin1').includes('__tend_')) others.push(child);
    } catch {}
  }
  return { helpers, others };
}

/**
 * 100 services that get ready 5 s after their start: latency from the moment the ready command
 * would pass (the flag file's mtime) until the daemon's status says RUNNING (seen through
 * WatchEvents); the CPU that tend spends while they wait (3 to 4.5 s after they were started: steady waiting; and 1 to 3 s, while probing settles: each service's dense first 400 ms; all before any is ready, since a probe shell that ended inside a window would be counted whole, as reaped by the daemon):
 * the daemon and its Node.js helpers, and with the probes (the probe shells and every probe
 * reaped). `announce`: the service prints a line when it is ready, as servers do; else it is silent.
 */
async function slowReady(n, announce) {
  const tend = await startTend();
  try {
    const dir = tend.dir;
    const list = names(n);
    const start = (name) => `sleep 5; touch ${dir}/ready-${name}; ${announce ? 'echo listening; ' : ''}exec sleep 3600`;
    await tend.call('UpsertAutomationsFile', {
      automationsFile: { services: Object.fromEntries(list.map((name) => [name, { commands: { start: start(name), ready: `test -f ${dir}/ready-${name}` } }])) },
    });
    const services = await tend.listAll('ListServices', 'services');
    const nameOf = new Map(services.map((service) => [service.id, service.metadata.reference]));
    const runningAt = new Map();
    const watch = new AbortController();
    const response = await fetch(`${tend.url}/gitpod.v1.EventService/WatchEvents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tend.token}`, 'content-type': 'application/jsonl' },
      body: JSON.stringify({ environmentId: JSON.parse(readFileSync(join(tend.stateDir, 'daemon.json'), 'utf8')).environmentId }),
      signal: watch.signal,
    });
    const reading = (async () => {
      let buffered = '';
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const event = JSON.parse(buffered.slice(0, end));
          buffered = buffered.slice(end + 1);
          const id = event.resourceId;
          if (event.resourceType !== 'RESOURCE_TYPE_SERVICE' || runningAt.has(id) || !nameOf.has(id)) continue;
          const seen = Date.now();
          void tend.call('GetService', { id }).then(({ service }) => {
            if (service.status.phase === 'SERVICE_PHASE_RUNNING' && !runningAt.has(id)) runningAt.set(id, seen);
          });
        }
      }
    })().catch(() => {});
    const started = performance.now();
    await Promise.all(services.map((service) => tend.call('StartService', { id: service.id })));
    await waitFor('STARTING', async () => (await tend.listAll('ListServices', 'services')).every((service) => service.status.phase === 'SERVICE_PHASE_STARTING'), { intervalMs: 20 });
    // Steady waiting: probe shells start after the first probe, and the first 400 ms probe densely.
    await sleep(Math.max(0, started + 1000 - performance.now()));
    const { helpers, others } = tendProcesses(tend.pid);
    const sample = () => ({ at: performance.now(), tend: cpuOf(helpers), all: cpuOf([...helpers, ...others]) });
    const cpu = (from, to) => {
      const seconds = (to.at - from.at) / 1000;
      return {
        tend: ((to.tend.own - from.tend.own) / seconds) * 100,
        all: ((to.all.own + to.all.reaped - from.all.own - from.all.reaped) / seconds) * 100,
      };
    };
    // 1-3 s after the start: probing settles (each service's dense first 400 ms); 3-4.5 s: steady waiting.
    const s0 = sample();
    await sleep(Math.max(0, started + 3000 - performance.now()));
    const s1 = sample();
    await sleep(Math.max(0, started + 4500 - performance.now()));
    const s2 = sample();
    await waitFor('all RUNNING', () => runningAt.size === n, { timeoutMs: 60_000, intervalMs: 20 });
    watch.abort();
    await reading;
    const latencies = [...runningAt].map(([id, seen]) => (seen - statSync(join(dir, `ready-${nameOf.get(id)}`)).mtimeMs) / 1000);
    return {
      latency: median(latencies),
      p90: latencies.sort((a, b) => a - b)[Math.floor(latencies.length * 0.9)],
      settling: cpu(s0, s1),
      steady: cpu(s1, s2),
      helpers: helpers.length - 1,
      probeShells: others.length,
    };
  } finally {
    await tend.stop();
    cleanup();
  }
}

async function w6b() {
  const n = 100;
  for (const announce of [true, false]) {
    const result = await slowReady(n, announce);
    const what = announce ? 'prints a line when ready' : 'silent';
    rows.push([`W6b readiness latency, ready 5 s after start (${what}): median, p90`, String(n), '-', '-', '-', `${fmt(result.latency)}, ${fmt(result.p90)}`, '-', '-']);
    const pair = (window) => `${window.tend.toFixed(1)} %; ${window.all.toFixed(1)} %`;
    rows.push([`W6b CPU while ${n} wait (${what}): tend; with its probes, 3-4.5 s after the start (1-3 s)`, String(n), '-', '-', '-', `${pair(result.steady)} (${pair(result.settling)})`, '-', '-']);
    console.error(`  W6b ${what}: ${JSON.stringify(result)}`);
  }
}

// ---- W7 API under load (tend) ----------------------------------------------------------------------

async function w7() {
  let hasWrk = true;
  try {
    run('sh', ['-c', 'command -v wrk']);
  } catch {
    hasWrk = false;
    if (process.getuid?.() === 0) {
      try {
        run('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'ignore', timeout: 300_000 });
        hasWrk = true;
      } catch {}
    }
  }
  if (!hasWrk) {
    notes.push('W7: not measured: wrk is not installed');
    return;
  }
  const tend = await startTend();
  try {
    const services = Object.fromEntries(names(1000).map((name) => [name, { commands: { start: 'true' } }]));
    await tend.call('UpsertAutomationsFile', { automationsFile: { services } });
    const one = (await tend.call('ListServices', { pagination: { pageSize: 1 } })).services[0];
    const dir = tend.dir;
    const measure = (method, body) => {
      const script = join(dir, `${method}.lua`);
      writeFileSync(script, `wrk.method = "POST"\nwrk.body = '${JSON.stringify(body)}'\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${tend.token}"\n`);
      const output = run('wrk', ['-t2', '-c50', '-d10s', '--latency', '-s', script, `${tend.url}/gitpod.v1.EnvironmentAutomationService/${method}`], { timeout: 60_000 });
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)[1]);
      const unit = (text) => {
        const match = /([\d.]+)(us|ms|s|m)\b/.exec(text);
        if (match === null) throw new Error(`Cannot read a latency from wrk: "${text}" in:\n${output}`);
        const [, value, suffix] = match;
        return Number(value) * ({ us: 1e-3, ms: 1, s: 1e3, m: 6e4 })[suffix];
      };
      const p50 = unit(/^\s+50%\s+(\S+)/m.exec(output)[1]);
      const p99 = unit(/^\s+99%\s+(\S+)/m.exec(output)[1]);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? '0';
      return { rps, p50, p99, non2xx };
    };
    const get = measure('GetService', { id: one.id });
    const list = measure('ListServices', { pagination: { pageSize: 100 } });
    rows.push(['W7 GetService, 50 clients', '1000', '-', '-', '-', `${get.rps.toFixed(0)} req/s, p50 ${get.p50.toFixed(2)} ms, p99 ${get.p99.toFixed(2)} ms`, '-', '-']);
    rows.push(['W7 ListServices (100 of 1000), 50 clients', '1000', '-', '-', '-', `${list.rps.toFixed(0)} req/s, p50 ${list.p50.toFixed(2)} ms, p99 ${list.p99.toFixed(2)} ms`, '-', '-']);
    console.error(`  W7: GetService ${JSON.stringify(get)}; ListServices ${JSON.stringify(list)}`);
    if (get.non2xx !== '0' || list.non2xx !== '0') notes.push(`W7: non-2xx answers: GetService ${get.non2xx}, ListServices ${list.non2xx}`);
  } finally {
    await tend.stop();
    cleanup();
  }
}

// ---- W8 status upstream (tend as runner + tend as control plane) -----------------------------------

/** N services started on a serve-only control plane: until all are RUNNING there, as the runner reported. */
async function runnerUp(n) {
  const cp = await startTend({ extraArgs: ['--serve-only'] });
  const runnerToken = readFileSync(join(cp.stateDir, 'runner-token'), 'utf8').trim();
  const env = { TEND_CONTROL_PLANE_TOKEN: runnerToken, GITPOD_ENVIRONMENT_ID: JSON.parse(readFileSync(join(cp.stateDir, 'daemon.json'), 'utf8')).environmentId };
  const runner = await startTend({ extraArgs: ['--control-plane', cp.url], env });
  try {
    const ids = await defineServices(cp, runner.dir, names(n));
    await waitFor('the runner to mirror them', async () => (await runner.listAll('ListServices', 'services')).length === n);
    const start = performance.now();
    await Promise.all(ids.map((id) => cp.call('StartService', { id })));
    await waitFor('RUNNING upstream', async () => (await cp.listAll('ListServices', 'services')).every((service) => service.status.phase === 'SERVICE_PHASE_RUNNING'), { intervalMs: 10 });
    const up = (performance.now() - start) / 1000;
    // What RUNNING upstream leaves in the outbox (a report in flight, the pids and ports that follow) must drain.
    const depth = async () => (await runner.call('GetStatus', {}, 'tend.v1.DaemonService')).controlPlane.outboxDepth;
    const left = await depth();
    if (left !== 0) {
      const drainStart = performance.now();
      const drained = await waitFor('the outbox to drain', async () => (await depth()) === 0, { timeoutMs: 10_000, intervalMs: 5 }).then(
        () => true,
        () => false,
      );
      notes.push(`W8: ${left} reports still in the outbox when all were RUNNING upstream; ${drained ? `drained ${(performance.now() - drainStart).toFixed(0)} ms later` : 'NOT drained within 10 s'}`);
    }
    return up;
  } finally {
    await runner.stop();
    await cp.stop();
  }
}

async function w8() {
  const n = 100;
  const standalone = await repeat(REPEAT, async () => (await tendUpDown(n)).up);
  const upstream = await repeat(REPEAT, () => runnerUp(n));
  rows.push(['W8 RUNNING on the control plane (runner reports)', String(n), '-', '-', '-', fmt(median(upstream)), '-', '-']);
  notes.push(`W8: the same ${n} services on a standalone tend: ${fmt(median(standalone))}; through a control plane ${ratio(median(upstream), median(standalone))} of that`);
}

// ---- W9 daemon start until it answers ---------------------------------------------------------------

/** Spawns `argv` and resolves with the seconds until `answers()` is true; the process is killed after. */
async function startUntil(argv, answers, env = {}) {
  const start = performance.now();
  const child = spawnTracked(argv[0], argv.slice(1), { env: { ...process.env, ...env } });
  try {
    await waitFor(`${argv[0]} to answer`, answers, { timeoutMs: 30_000, intervalMs: 1 });
    return (performance.now() - start) / 1000;
  } finally {
    child.kill('SIGKILL');
    await waitFor('it to exit', () => child.exitCode !== null || child.signalCode !== null);
  }
}

/** POSTs over node:http (lighter than fetch, which matters when polling every millisecond); the status, or undefined. */
function post(target, headers, body) {
  return new Promise((resolve) => {
    const request = httpRequest({ ...target, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    request.on('error', () => resolve(undefined));
    request.end(body);
  });
}

async function w9() {
  const runs = Math.max(REPEAT, 5);
  const times = { floor: [], tend: [], supervisord: [] };
  for (let index = 0; index < runs; index++) {
    {
      // The floor: a Node.js process that listens and answers.
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const script = `require('node:http').createServer((q, s) => s.end('{}')).listen(${port}, '127.0.0.1')`;
      times.floor.push(await startUntil([process.execPath, '-e', script], async () => (await post({ host: '127.0.0.1', port }, {}, '{}')) === 200));
    }
    {
      const dir = scratch('tend-start');
      const stateDir = join(dir, 'state');
      let url;
      const argv = [process.execPath, join(import.meta.dirname, '../dist/cli/main.js'), 'daemon', '--workspace', dir, '--state-dir', stateDir];
      times.tend.push(
        await startUntil(argv, async () => {
          if (url === undefined) {
            try {
              url = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')).url;
            } catch {
              return false;
            }
          }
          const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
          const { hostname, port } = new URL(url);
          return (await post({ host: hostname, port, path: '/tend.v1.DaemonService/GetStatus' }, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{}')) === 200;
        }, { TEND_LOG_LEVEL: 'warn' }),
      );
    }
    if (peers.supervisord === null) {
      const dir = scratch('sv-start');
      const sock = join(dir, 'supervisor.sock');
      const conf = join(dir, 'supervisord.conf');
      writeFileSync(conf, [`[unix_http_server]`, `file=${sock}`, '[supervisord]', 'nodaemon=true', `logfile=${join(dir, 'supervisord.log')}`, `pidfile=${join(dir, 'supervisord.pid')}`, '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', ''].join('\n'));
      const body = "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>";
      times.supervisord.push(await startUntil(['supervisord', '-c', conf], async () => existsSync(sock) && (await post({ socketPath: sock, path: '/RPC2' }, { 'content-type': 'text/xml' }, body)) === 200));
    }
    cleanup();
  }
  const values = { floor: median(times.floor), tend: median(times.tend) };
  if (times.supervisord.length > 0) values.supervisord = median(times.supervisord);
  row('W9 daemon start until it answers', 1, values);
  notes.push('W9: floor: a Node.js process listening with node:http; supervisord: until its XML-RPC answers on its socket; pm2: not measured (its CLI starts its daemon)');
}

// ---- W10 the dashboard's page (weight, time to first render) ----------------------------------------

async function w10() {
  const missing = chromiumAvailable();
  if (missing !== null) return void notes.push(`W10: not measured: ${missing}`);
  const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  for (const n of [10, 100]) {
    const { weight, cold, warm } = await dashboardLoad(n, Math.max(REPEAT, 5));
    if (n === 10) {
      rows.push(['W10 dashboard page weight (gzip on the wire; unpacked)', String(weight.files), '-', '-', '-', `${kib(weight.wire)}; ${kib(weight.raw)}`, '-', '-']);
    }
    const ms = (values) => fmt(median(values) / 1000);
    rows.push([`W10 dashboard first render, empty cache (first paint)`, String(n), '-', '-', '-', `${ms(cold.map((run) => run.render))} (${ms(cold.map((run) => run.paint))})`, '-', '-']);
    rows.push([`W10 dashboard first render, warm cache`, String(n), '-', '-', '-', ms(warm.map((run) => run.render)), '-', '-']);
  }
}

// ---- main ------------------------------------------------------------------------------------------

// Interrupted (Ctrl-C, a kill, a closed terminal): the peers, their programs and the dirs go too.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    cleanup();
    process.exit(code);
  });
}
try {
  const workloads = { W1: w1w2, W2: w2Extras, W3: w3, W4: w4, W5: w5, W6: w6, W6b: w6b, W7: w7, W8: w8, W9: w9, W10: w10 };
  for (const [name, fn] of Object.entries(workloads)) {
    if (!ONLY.includes(name) && !(name === 'W1' && ONLY.includes('W2'))) continue;
    console.error(`${name}...`);
    await fn();
  }
} finally {
  cleanup();
}

const header = ['workload', 'N', 'floor', 'pm2', 'supervisord', 'tend', 'tend/floor', 'tend/best peer'];
const table = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
const report = `${table}\n\n${notes.map((note) => `- ${note}`).join('\n')}\n\nNode ${process.version}, ${cpu}, ${run('nproc', []).trim()} cores; medians of ${REPEAT} runs (W6: of 20).\n`;
process.stdout.write(report);
if (OUT !== undefined) writeFileSync(OUT, report);
