// The systems under test, each able to run the benchmark workloads: tend (through its API), the
// floor (plain child_process.spawn in this process, and a bash loop), pm2 and supervisord.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run, scratch, sleep, spawnTracked, track, waitFor } from './common.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
// TEND_BENCH_CLI: another build's main.js (paired runs of two builds).
const CLI = process.env.TEND_BENCH_CLI ?? join(ROOT, 'dist/cli/main.js');
const PEERS = join(ROOT, 'bench/.peers');

// ---- tend -------------------------------------------------------------------------------------

export async function startTend({ stopTimeout = '5s', extraArgs = [], env = {} } = {}) {
  const dir = scratch('tend');
  const stateDir = join(dir, 'state');
  const child = spawn(process.execPath, [...(process.env.TEND_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TEND_BENCH_PROFILE}`] : []), CLI, 'daemon', '--workspace', dir, '--state-dir', stateDir, '--stop-timeout', stopTimeout, ...extraArgs], {
    // TEND_BENCH_STDERR=1: the daemon's output (its log) on this one's.
    stdio: ['ignore', process.env.TEND_BENCH_STDERR ? 'inherit' : 'ignore', process.env.TEND_BENCH_STDERR ? 'inherit' : 'ignore'],
    env: { ...process.env, TEND_LOG_LEVEL: 'warn', ...env },
  });
  track(child.pid);
  const info = await waitFor('the tend daemon', () => existsSync(join(stateDir, 'daemon.json')) && JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')), { timeoutMs: 15_000 });
  const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = async (method, body, service = 'gitpod.v1.EnvironmentAutomationService') => {
    const response = await fetch(`${info.url}/${service}/${method}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const parsed = await response.json();
    if (!response.ok) throw new Error(`${method}: ${parsed.message}`);
    return parsed;
  };
  const listAll = async (method, key) => {
    const all = [];
    let token2 = '';
    do {
      const page = await call(method, { pagination: { pageSize: 100, token: token2 } });
      all.push(...(page[key] ?? []));
      token2 = page.pagination?.nextToken ?? '';
    } while (token2 !== '');
    return all;
  };
  /** Follows WatchEvents (as `tend tasks start --wait` and `tend up` do): `onEvent` gets each event; `close` ends the stream. */
  const watchEvents = async (onEvent) => {
    const controller = new AbortController();
    const open = () =>
      fetch(`${info.url}/gitpod.v1.EventService/WatchEvents`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/jsonl' },
        body: JSON.stringify({ environmentId: info.environmentId }),
        signal: controller.signal,
      });
    // A pooled connection the daemon closed while this process's loop was blocked (500 forks)
    // fails at once with "other side closed": a new connection is then made.
    const response = await open().catch((error) => {
      if (error?.cause?.code !== 'UND_ERR_SOCKET') throw error;
      return open();
    });
    (async () => {
      let buffered = '';
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          if (line !== '') onEvent(JSON.parse(line));
        }
      }
    })().catch(() => {});
    return { close: () => controller.abort() };
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await waitFor('the tend daemon to exit', () => child.exitCode !== null || child.signalCode !== null, { timeoutMs: 60_000 });
  };
  /** `tend down`, as a user ends the day: the daemon stops everything by the stop rules and exits. */
  const down = () => run(process.execPath, [CLI, 'down', '--state-dir', stateDir], { timeout: 300_000 });
  /** `tend stop`, as a user stops every service and keeps the daemon: it returns once they are down. */
  const stopAll = () => run(process.execPath, [CLI, 'stop', '--state-dir', stateDir], { timeout: 300_000 });
  return { dir, stateDir, url: info.url, token, pid: child.pid, call, listAll, watchEvents, down, stopAll, stop };
}

// ---- pm2 --------------------------------------------------------------------------------------

export function pm2Available() {
  const bin = join(PEERS, 'node_modules/.bin/pm2');
  if (existsSync(bin)) return null;
  try {
    mkdirSync(PEERS, { recursive: true });
    run('npm', ['install', '--prefix', PEERS, '--no-audit', '--no-fund', 'pm2@6'], { stdio: 'ignore', timeout: 180_000 });
  } catch (error) {
    return `npm install pm2 failed: ${error.message.split('\n')[0]}`;
  }
  return existsSync(bin) ? null : 'pm2 did not install';
}

export async function startPm2() {
  const home = scratch('pm2');
  const bin = join(PEERS, 'node_modules/.bin/pm2');
  const env = { ...process.env, PM2_HOME: home };
  const pm2 = (...args) => run(bin, args, { env, timeout: 300_000 });
  pm2('ping');
  const pid = Number(readFileSync(join(home, 'pm2.pid'), 'utf8').trim());
  track(pid);
  const list = () => JSON.parse(pm2('jlist'));
  const ecosystem = (apps) => {
    const path = join(home, `apps-${Date.now()}.config.cjs`);
    writeFileSync(path, `module.exports = ${JSON.stringify({ apps })};\n`);
    return path;
  };
  const app = (name, command, extra = {}) => ({
    name,
    script: '/bin/sh',
    args: ['-c', command],
    interpreter: 'none',
    autorestart: false,
    kill_timeout: 5000,
    ...extra,
  });
  const stop = () => {
    try {
      pm2('kill');
    } catch {}
  };
  return { home, pid, pm2, list, ecosystem, app, stop, logDir: join(home, 'logs') };
}

// ---- supervisord ------------------------------------------------------------------------------

export function supervisordAvailable() {
  const has = () => {
    try {
      run('sh', ['-c', 'command -v supervisord && command -v supervisorctl']);
      return true;
    } catch {
      return false;
    }
  };
  if (has()) return null;
  if (process.getuid?.() !== 0) return 'supervisord is not installed (apt-get install supervisor needs root)';
  try {
    run('apt-get', ['install', '-y', '-qq', 'supervisor'], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    try {
      run('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq supervisor'], { stdio: 'ignore', timeout: 600_000 });
    } catch (error) {
      return `apt-get install supervisor failed: ${error.message.split('\n')[0]}`;
    }
  }
  return has() ? null : 'supervisord did not install';
}

/** programs: [{name, command, startsecs?, stopwaitsecs?, logfile?}] */
export async function startSupervisord(programs) {
  const dir = scratch('supervisord');
  const sock = join(dir, 'supervisor.sock');
  const conf = join(dir, 'supervisord.conf');
  const sections = [
    '[unix_http_server]',
    `file=${sock}`,
    '[supervisord]',
    'nodaemon=true',
    `logfile=${join(dir, 'supervisord.log')}`,
    `pidfile=${join(dir, 'supervisord.pid')}`,
    'minfds=4096',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '[supervisorctl]',
    `serverurl=unix://${sock}`,
  ];
  for (const program of programs) {
    sections.push(
      `[program:${program.name}]`,
      // supervisord expands %(name)s in its config: a literal % is written %%.
      `command=/bin/sh -c '${program.command.replaceAll("'", "'\\''").replaceAll('%', '%%')}'`,
      'autostart=false',
      'autorestart=false',
      `startsecs=${program.startsecs ?? 1}`,
      `stopwaitsecs=${program.stopwaitsecs ?? 5}`,
      `stdout_logfile=${program.logfile ?? join(dir, `${program.name}.log`)}`,
      'stdout_logfile_maxbytes=0',
      'redirect_stderr=true',
    );
  }
  writeFileSync(conf, `${sections.join('\n')}\n`);
  const child = spawnTracked('supervisord', ['-c', conf], { env: { ...process.env } });
  await waitFor('supervisord', () => existsSync(sock), { timeoutMs: 30_000 });
  await sleep(100);
  const ctl = (...args) => {
    try {
      return run('supervisorctl', ['-c', conf, ...args], { timeout: 600_000 });
    } catch (error) {
      return String(error.stdout ?? '');
    }
  };
  const statuses = () =>
    ctl('status')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(/\s+/).slice(0, 2));
  const stop = async () => {
    child.kill('SIGTERM');
    await waitFor('supervisord to exit', () => child.exitCode !== null || child.signalCode !== null, { timeoutMs: 60_000 }).catch(() => child.kill('SIGKILL'));
  };
  return { dir, pid: child.pid, ctl, statuses, stop };
}
