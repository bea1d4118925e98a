/**
 * Ready probes on the machine, with real processes: a plain test costs no process at all (tend's
 * one shell of plain tests answers it, first probe included); for another command, after the
 * first probe (its own process), a waiting service's probes are subshells of one probe shell, which is gone once the service is
 * ready; a session tells when its log grows (its probing is then woken: the policy is in
 * unit/probe-schedule.test.ts); a stop while probing leaves nothing behind.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { systemClock } from '../src/domain/clock.js';
import { LogRotator } from '../src/runtime/log-rotation.js';
import { MachineRuntime } from '../src/runtime/machine/machine-runtime.js';
import type { Session } from '../src/runtime/runtime.js';
import { findProcesses, SESSION_MARKER_VAR } from '../src/runtime/machine/proc.js';
import { Spawner } from '../src/runtime/machine/spawner.js';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, getService, waitPhase } from './helpers/services.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

/** Appends the parent pid of the probe's own shell (field 4 of its /proc stat) to `file`. */
const parentTo = (file: string): string => `read -r s < /proc/$BASHPID/stat; s=\${s##*) }; set -- $s; echo $2 >> ${file}`;

/** A machine runtime on a spawner and log rotator of its own, both closed when the test ends. */
function machineRuntime(): MachineRuntime {
  const spawner = new Spawner();
  const logs = new LogRotator();
  onTestFinished(() => {
    spawner.close();
    logs.close();
  });
  return new MachineRuntime({ baseEnv: { PATH: process.env.PATH ?? '' }, shell: '/bin/bash', instanceId: randomUUID(), clock: systemClock, logs, spawner });
}

/** A session of `runtime` in `root` running `command`, force-stopped when the test ends. */
async function startSession(runtime: MachineRuntime, root: string, command: string, options: { env?: Record<string, string>; log?: string } = {}): Promise<Session> {
  const session = await runtime.start({
    runId: randomUUID(),
    resourceId: 'r',
    sessionLabel: 's',
    command,
    env: options.env ?? {},
    workspace: root,
    logPath: join(root, 'logs', options.log ?? 'run.log'),
    outputPath: join(root, 'out.env'),
    runsOn: undefined,
  });
  onTestFinished(() => session.stop({ stopCommand: null, timeoutMs: 0, force: true }).then(() => undefined));
  return session;
}

describe('ready probes on the machine', () => {
  it('probes after the first run in one probe shell of the session, which goes when the service is ready', async () => {
    const td = await startTestDaemon();
    const dir = td.workspace;
    const id = await createService(td.client, 'db', {
      start: 'exec sleep 60',
      ready: `${parentTo(`${dir}/parents`)}; test -f ${dir}/up`,
    });
    await td.client.environments.automations.services.start({ id });
    const parents = (): string[] => (existsSync(join(dir, 'parents')) ? readFileSync(join(dir, 'parents'), 'utf8').trim().split('\n') : []);
    await waitFor(() => parents().length >= 5, { what: 'five probes' });
    const [first, ...rest] = parents();
    // The first probe's shell was forked by the spawner; the rest by one probe shell.
    expect(new Set(rest).size).toBe(1);
    expect(rest[0]).not.toBe(first);
    const shell = Number(rest[0]);
    const session = (await getService(td.client, id)).status!.logUrl!.split('/').pop()!;
    expect(findProcesses([], SESSION_MARKER_VAR, session).map((process) => process.pid)).toContain(shell);
    expect(existsSync(join(td.stateDir, 'logs', `${session}.log.probe`))).toBe(true);
    writeFileSync(join(dir, 'up'), '');
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    await waitFor(() => !findProcesses([], SESSION_MARKER_VAR, session).some((process) => process.pid === shell), { what: 'the probe shell to exit' });
    await waitFor(() => !existsSync(join(td.stateDir, 'logs', `${session}.log.probe`)), { what: 'its output file to go' });
  });

  it("ready commands that are plain tests run in tend's one shell for them, with no process of their own", async () => {
    const td = await startTestDaemon();
    const dir = td.workspace;
    // $BASHPID is the pid of the shell that evaluates it: that shell's own ($$) only when no
    // subshell was forked for the probe.
    const ids = await Promise.all(
      ['one', 'two'].map((name) =>
        createService(td.client, name, { start: `sleep 0.5; touch ${dir}/${name}; exec sleep 60`, ready: `[ -f ${dir}/${name} -a "$BASHPID" = "$$" ]` }),
      ),
    );
    await Promise.all(ids.map((id) => td.client.environments.automations.services.start({ id })));
    // The daemon runs in this process; its spawner is its child.
    const parentOf = (pid: string): number => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    };
    const ours = (pid: string): boolean => parentOf(pid) === process.pid || parentOf(String(parentOf(pid))) === process.pid;
    const childrenRunning = (marker: string): number[] =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((entry) => {
          try {
            return ours(entry) && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(marker);
          } catch {
            return false;
          }
        })
        .map(Number);
    // While both wait: one shell of plain tests, forked by the spawner (the daemon forks nothing),
    // and no probe shell of a session.
    await waitFor(() => childrenRunning('__tend_shared').length === 1, { what: 'the plain tests\' shell' });
    expect(parentOf(String(childrenRunning('__tend_shared')[0]))).not.toBe(process.pid);
    expect(childrenRunning('__tend_command')).toEqual([]);
    for (const id of ids) expect((await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING')).status?.phase).toBe('SERVICE_PHASE_RUNNING');
    // Nobody waits any more: it ends.
    await waitFor(() => childrenRunning('__tend_shared').length === 0, { what: 'the plain tests\' shell to end' });
  });

  it('a session tells when its log grows (what wakes its probing)', async () => {
    const root = tempDir();
    const session = await startSession(machineRuntime(), root, `while [ ! -f ${root}/go ]; do sleep 0.01; done; echo listening; exec sleep 60`);
    let grew = 0;
    const quiet = session.onActivity!(() => (grew += 1));
    writeFileSync(join(root, 'go'), '');
    await waitFor(() => grew > 0, { what: 'the log to grow' });
    quiet();
    await session.stop({ stopCommand: null, timeoutMs: 0, force: true });
  });

  it('a session tells when a file its plain test looks at changes (what wakes its probing, so the test is polled seldom)', async () => {
    const root = tempDir();
    const session = await startSession(machineRuntime(), root, 'exec sleep 60', { env: { FLAGS: root } });
    let woken = 0;
    const quiet = session.onActivity!(() => (woken += 1));
    // A steady run: repeated by the shell of plain tests, woken by the change as the engine does.
    const run = session.probeLater!('test -f "$FLAGS/up"', 100, true)!;
    writeFileSync(join(root, 'up'), '');
    await waitFor(() => woken > 0, { what: 'the change to be told' });
    run.wake!();
    expect(await run.result).toMatchObject({ ok: true, code: 0 });
    quiet();
    session.endProbing!();
  });

  it("a plain test's first probe is answered by the shell of plain tests too; another command's by a process of its own", async () => {
    const root = tempDir();
    const runtime = machineRuntime();
    const plain = await startSession(runtime, root, 'exec sleep 60', { log: 'plain.log' });
    const other = await startSession(runtime, root, 'exec sleep 60', { log: 'other.log' });
    // Only that shell counts its answers' probes; a process answers for itself.
    const held = plain.probeLater!(`test -f ${root}/ready`, 1);
    expect(await held?.result).toMatchObject({ ok: false, probes: 1 });
    writeFileSync(join(root, 'ready'), '');
    expect(await plain.probe(`test -f ${root}/ready`).result).toMatchObject({ ok: true, probes: 1 });
    expect(other.probeLater!(`test -f ${root}/ready && true`, 1)).toBeUndefined();
    const own = await other.probe(`test -f ${root}/ready && true`).result;
    expect(own).toMatchObject({ ok: true });
    expect(own.probes).toBeUndefined();
    plain.endProbing!();
    other.endProbing!();
  });

  it('a stop while a probe runs in the probe shell leaves no process of the session', async () => {
    const td = await startTestDaemon();
    const dir = td.workspace;
    const id = await createService(td.client, 'stuck', { start: 'exec sleep 60', ready: `echo $BASHPID >> ${dir}/probes; sleep 30` });
    await td.client.environments.automations.services.start({ id });
    const session = (await waitFor(async () => (await getService(td.client, id)).status?.logUrl, { what: 'its session' })).split('/').pop()!;
    // The first probe is killed at its bound (2 s in tests), the second runs in the probe shell.
    await waitFor(() => existsSync(join(dir, 'probes')) && readFileSync(join(dir, 'probes'), 'utf8').trim().split('\n').length >= 2, { what: 'a probe in the probe shell', timeoutMs: 10_000 });
    await td.client.environments.automations.services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED');
    expect(findProcesses([], SESSION_MARKER_VAR, session)).toEqual([]);
  });
});
