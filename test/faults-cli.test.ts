/**
 * Issue 17, the CLI around a crash: nobody but this state directory's daemon is ever signalled,
 * what a dead daemon left is seen and stopped, one daemon per directory held by the kernel, and
 * start-up problems are one line with what to do.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bootId, readProcStat } from '../src/runtime/machine/proc.js';
import { CLI, killStateDirProcesses, runCli, spawnDaemon } from './helpers/cli.js';
import { pidAlive, readPidFile } from './helpers/services.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

function stranger(): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  return child.pid!;
}

describe('the CLI around a crash', () => {
  it('a daemon.json whose pid now belongs to another process: nothing is signalled, and the directory is taken over', async () => {
    const stateDir = tempDir();
    const pid = stranger();
    writeFileSync(join(stateDir, 'daemon.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid, environmentId: 'e', startTime: '1', bootId: bootId() }));
    const down = await runCli(['down', '--state-dir', stateDir]);
    expect(down.stdout).toBe(`No tend daemon is running for ${stateDir}\n`);
    expect(down.code).toBe(0);
    // The format of an earlier tend, without the identity: the lock tells that nobody holds the directory.
    writeFileSync(join(stateDir, 'daemon.json'), JSON.stringify({ url: 'http://127.0.0.1:9', pid, environmentId: 'e' }));
    expect((await runCli(['down', '--state-dir', stateDir])).stdout).toBe(`No tend daemon is running for ${stateDir}\n`);
    expect(pidAlive(pid)).toBe(true);
    const daemon = await spawnDaemon([], stateDir);
    expect(daemon.info.pid).not.toBe(pid);
    expect(await daemon.stop()).toBe(0);
    expect(pidAlive(pid)).toBe(true);
  });

  it('a SIGTERM the moment daemon.json appears stops the daemon cleanly (it was lost, or killed it, half the time)', async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const stateDir = tempDir();
      const child = spawn(process.execPath, [CLI, 'daemon', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code}/${signal}`)));
      onTestFinished(() => {
        child.kill('SIGKILL');
      });
      const infoPath = join(stateDir, 'daemon.json');
      // As close to its writing as a watcher gets: every millisecond.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          if ((JSON.parse(readFileSync(infoPath, 'utf8')) as { pid: number }).pid === child.pid) break;
        } catch {
          // not there yet
        }
        if (Date.now() > deadline) throw new Error(`no daemon.json: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      child.kill('SIGTERM');
      let late: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([exited, new Promise<string>((resolve) => (late = setTimeout(() => resolve('still running after 10 s'), 10_000)))]);
      clearTimeout(late);
      expect(outcome, stderr).toBe('0/null');
      expect(existsSync(infoPath)).toBe(false);
    }
  });

  it('tend down returns once the daemon has exited, also while its parent has not reaped it (it waited for the zombie forever)', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    // The daemon's parent becomes `sleep`, which never waits for its children: the exited daemon stays a zombie.
    const parent = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" daemon --workspace "${root}" --state-dir "${stateDir}" > /dev/null 2>&1 & exec sleep 60`], { stdio: 'ignore' });
    onTestFinished(() => {
      killStateDirProcesses(stateDir);
      parent.kill('SIGKILL');
    });
    const info = await waitFor(() => existsSync(join(stateDir, 'daemon.json')) && (JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as { pid: number }), {
      what: 'the daemon to start',
    });
    const down = await runCli(['down', '--state-dir', stateDir], { timeoutMs: 20_000 });
    expect(down.stdout).toBe(`Stopping the tend daemon ${info.pid} and everything it runs\n`);
    expect(down.code).toBe(0);
    expect(readProcStat(info.pid)?.state).toBe('Z');
    expect((await runCli(['down', '--state-dir', stateDir])).stdout).toBe(`No tend daemon is running for ${stateDir}\n`);
  });

  it('after kill -9 of the daemon, tend status names what it left running and tend down stops it', async () => {
    const root = tempDir();
    const stateDir = join(root, 'state');
    const daemon = await spawnDaemon(['--workspace', root], stateDir);
    const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
    const call = async (method: string, body: unknown): Promise<any> =>
      (await fetch(`${daemon.info.url}/gitpod.v1.EnvironmentAutomationService/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })).json();
    const { service } = await call('CreateService', { metadata: { reference: 'web' }, spec: { commands: { start: `echo $$ > ${root}/web.pid; exec sleep 60` } } });
    await call('StartService', { id: service.id });
    const pid = await readPidFile(join(root, 'web.pid'));
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    const status = await runCli(['status', '--state-dir', stateDir]);
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(`tend: No tend daemon is running for ${stateDir}, but 1 process (pid ${pid}) a previous daemon started still run: \`tend down\` stops them, \`tend up\` takes them over\n`);
    const down = await runCli(['down', '--state-dir', stateDir]);
    expect(down.stdout).toBe(`No tend daemon is running for ${stateDir}, but 1 process (pid ${pid}) it left still run: stopping them\n`);
    expect(pidAlive(pid)).toBe(false);
    expect((await runCli(['down', '--state-dir', stateDir])).stdout).toBe(`No tend daemon is running for ${stateDir}\n`);
  });

  it('three daemons started at once on one state directory: exactly one runs; after kill -9 the next one starts at once', async () => {
    const stateDir = tempDir();
    const starters = [0, 1, 2].map(() => {
      const child = spawn(process.execPath, [CLI, 'daemon', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      onTestFinished(async () => {
        child.kill('SIGKILL');
        await exited;
      });
      return { child, exited, stderr: () => stderr };
    });
    const info = await waitFor(() => existsSync(join(stateDir, 'daemon.json')) && (JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as { pid: number }), {
      what: 'one daemon to run',
    });
    const losers = starters.filter((starter) => starter.child.pid !== info.pid);
    expect(losers).toHaveLength(2);
    for (const loser of losers) {
      expect(await loser.exited).toBe(1);
      expect(loser.stderr()).toMatch(/^tend: Another tend daemon is running on state directory /);
    }
    const winner = starters.find((starter) => starter.child.pid === info.pid)!;
    expect(winner.child.exitCode).toBe(null);
    winner.child.kill('SIGKILL');
    await winner.exited;
    const next = await spawnDaemon([], stateDir);
    expect(await next.stop()).toBe(0);
  });

  it('start-up problems are one line with what to do: a damaged store, a port in use, a state directory that cannot be made', async () => {
    const damaged = tempDir();
    writeFileSync(join(damaged, 'store.db'), 'this is not a database, it is a note');
    const store = await runCli(['daemon', '--state-dir', damaged]);
    expect(store.code).toBe(1);
    expect(store.stderr).toMatch(/^tend: The state database \S+store\.db is damaged \(file is not a database\): move it aside to start afresh and keep it for a look, with `mv \S+store\.db \S+store\.db\.damaged`\n$/);

    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    onTestFinished(() => {
      server.close();
    });
    const { port } = server.address() as AddressInfo;
    const taken = await runCli(['daemon', '--state-dir', tempDir(), '--listen', `127.0.0.1:${port}`]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe(`tend: Cannot listen on 127.0.0.1:${port}: the port is in use; choose another with --listen HOST:PORT (port 0 picks a free one)\n`);

    const root = tempDir();
    writeFileSync(join(root, 'file'), '');
    mkdirSync(join(root, 'dir'));
    const blocked = await runCli(['daemon', '--state-dir', join(root, 'file', 'state')]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/^tend: Cannot write to the state directory \S+ \(ENOTDIR[^)]*\): make it writable, or choose another with --state-dir or TEND_STATE_DIR\n$/);
  });
});
