#!/usr/bin/env node
// What Node's compile cache saves when the `tend` command starts: `tend --help` (every module the
// command imports, loaded and compiled, then commander's help) through dist/cli/main.js (no cache)
// and dist/cli/tend.js (the cache: warm, and cold with an emptied cache before each run), on each
// Node given. Runs are interleaved so that drift of the machine's load hits every variant alike.
// Prints one markdown table of medians.
//
//   node bench/start-time.mjs [--runs 100] [--out FILE] NODE...   (NODE: a node binary)
//
// Not a test: nothing here runs in `npm test` or CI. bench/start-time fetches Node 22 and 24.
import { spawnSync } from 'node:child_process';
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

function once(node, script, tmp) {
  const env = { ...process.env, TMPDIR: tmp };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  const start = performance.now();
  const result = spawnSync(node, [script, ...COMMAND], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${node} ${script} ${COMMAND.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return ms;
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const loadBefore = loadAverage();
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
    const [plain, warm, cold] = [median(times.plain), median(times.warm), median(times.cold)];
    const saved = plain - warm;
    rows.push([
      version,
      hasCache ? 'yes' : 'no (Node 20)',
      `${plain.toFixed(1)} ms`,
      `${warm.toFixed(1)} ms`,
      hasCache ? `${saved.toFixed(1)} ms (${((saved / plain) * 100).toFixed(0)} %)` : `${saved.toFixed(1)} ms (noise)`,
      `${cold.toFixed(1)} ms`,
    ]);
    console.error(`  ${version}: main.js ${plain.toFixed(1)} ms, tend.js warm ${warm.toFixed(1)} ms, cold ${cold.toFixed(1)} ms`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const header = ['Node', 'compile cache', 'main.js (no cache)', 'tend.js, warm cache', 'saved', 'tend.js, cache emptied before each run'];
const table = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
const text = `\`tend ${COMMAND.join(' ')}\`, medians of ${RUNS} runs each, interleaved; load average ${loadBefore} before, ${loadAverage()} after (${availableParallelism()} cores)\n\n${table}\n`;
process.stdout.write(text);
if (OUT) writeFileSync(OUT, text);
