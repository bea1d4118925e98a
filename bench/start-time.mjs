#!/usr/bin/env node
// What Node's compile cache saves when the `tend` command starts: `tend --help` (every module the
// command imports, loaded and compiled, then commander's help) through dist/cli/main.js (no cache)
// and dist/cli/tend.js (the cache: warm, and cold with an emptied cache before each run), on each
// Node given. Runs are interleaved so that drift of the machine's load hits every variant alike.
// Prints one markdown table: the median wall time of a start (the spawn included) and the mean CPU
// time of one (user + system, from this process's cutime/cstime: less swayed by other load).
//
//   node bench/start-time.mjs [--runs 100] [--out FILE] NODE...   (NODE: a node binary)
//
// Not a test: nothing here runs in `npm test` or CI. bench/start-time fetches Node 22 and 24.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './lib/common.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const [value] = args.splice(index, 2).slice(1);
  return value;
};
const RUNS = Number(option('runs', '100'));
const OUT = option('out', undefined);
const NODES = args.length > 0 ? args : [process.execPath];
const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/cli/main.js');
const ENTRY = join(ROOT, 'dist/cli/tend.js');
const COMMAND = ['--help'];
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time of this process's waited-for children so far (cutime + cstime of /proc/self/stat), in ms. */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

function once(node, script, tmp) {
  const env = { ...process.env, TMPDIR: tmp };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  const cpu = childrenCpuMs();
  const start = performance.now();
  const result = spawnSync(node, [script, ...COMMAND], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = performance.now() - start;
  if (result.status !== 0) throw new Error(`${node} ${script} ${COMMAND.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return { wall, cpu: childrenCpuMs() - cpu };
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const loadBefore = loadAverage();
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
const ms = (value) => `${value.toFixed(1)} ms`;
const rows = [];
for (const node of NODES) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const hasCache = spawnSync(node, ['-p', "typeof require('node:module').enableCompileCache"], { encoding: 'utf8' }).stdout.trim() === 'function';
  const tmp = mkdtempSync(join(tmpdir(), 'tend-bench-start-'));
  const cacheDir = join(tmp, 'node-compile-cache');
  try {
    const times = { plain: [], warm: [], cold: [] };
    for (let warmup = 0; warmup < 5; warmup++) {
      once(node, MAIN, tmp);
      once(node, ENTRY, tmp);
    }
    for (let run = 0; run < RUNS; run++) {
      times.plain.push(once(node, MAIN, tmp));
      times.warm.push(once(node, ENTRY, tmp));
      rmSync(cacheDir, { recursive: true, force: true });
      times.cold.push(once(node, ENTRY, tmp));
    }
    if (hasCache !== existsSync(cacheDir)) throw new Error(`${version}: compile cache ${hasCache ? 'expected but not written' : 'written, unexpectedly'}`);
    const [plain, warm, cold] = [times.plain, times.warm, times.cold].map((list) => ({
      wall: median(list.map((time) => time.wall)),
      cpu: mean(list.map((time) => time.cpu)),
    }));
    const cell = (time) => `${ms(time.wall)} (CPU ${ms(time.cpu)})`;
    const share = (saved, of) => `${((saved / of) * 100).toFixed(0)} %`;
    const saved = hasCache
      ? `${ms(plain.wall - warm.wall)} (${share(plain.wall - warm.wall, plain.wall)}); CPU ${ms(plain.cpu - warm.cpu)} (${share(plain.cpu - warm.cpu, plain.cpu)})`
      : `none: ${ms(plain.wall - warm.wall)}, CPU ${ms(plain.cpu - warm.cpu)} is noise`;
    rows.push([version, hasCache ? 'yes' : 'no (Node 20)', cell(plain), cell(warm), saved, cell(cold)]);
    console.error(`  ${version}: main.js ${cell(plain)}, tend.js warm ${cell(warm)}, cold ${cell(cold)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const header = ['Node', 'compile cache', 'main.js (no cache)', 'tend.js, warm cache', 'saved', 'tend.js, cache emptied before each run'];
const table = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
const heading = `\`tend ${COMMAND.join(' ')}\`: median wall time of a start (CPU: mean user + system time of one), ${RUNS} runs of each, interleaved; load average ${loadBefore} before, ${loadAverage()} after (${availableParallelism()} cores)`;
const text = `${heading}\n\n${table}\n`;
process.stdout.write(text);
if (OUT) writeFileSync(OUT, text);
