/**
 * The one shell that evaluates the plain-test ready commands of every session, with real bash:
 * each test in its own context (directory, variables), on its own schedule, answered once.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ansiQuote, PlainTestProber, type PlainTest } from '../src/runtime/machine/plain-test-prober.js';
import { readProcStat } from '../src/runtime/machine/proc.js';
import { Spawner } from '../src/runtime/machine/spawner.js';
import { pidAlive } from './helpers/services.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

/** A prober on a spawner of its own; both gone when the test ends. */
function newProber(): PlainTestProber {
  const spawner = new Spawner();
  onTestFinished(() => spawner.close());
  return new PlainTestProber('/bin/bash', spawner);
}

/** A prober whose tests are all forgotten (and its shell gone) when the test ends. */
function prober(): { shared: PlainTestProber; register: (test: PlainTest) => number } {
  const shared = newProber();
  const ids: number[] = [];
  onTestFinished(() => ids.forEach((id) => shared.forget(id)));
  return {
    shared,
    register: (test) => {
      const id = shared.register(test);
      ids.push(id);
      return id;
    },
  };
}

describe('the plain tests of every session, in one shell', () => {
  it('evaluates each in its own directory with its own variables; unset ones are unset', async () => {
    const root = tempDir();
    for (const name of ['a', 'b']) mkdirSync(join(root, name));
    writeFileSync(join(root, 'a', 'flag'), '');
    const { shared, register } = prober();
    const test = (name: string, command: string, env: Record<string, string>) =>
      shared.run(register({ command, env, cwd: join(root, name), outputPath: join(root, `${name}-${command.length}.probe`) }), 5, 3).result;
    const [literal, relative, variable, other, unset] = await Promise.all([
      test('b', `[ "$WHERE" = "it's b" ]`, { WHERE: "it's b" }),
      test('a', 'test -f flag', {}),
      test('b', '[ -n "$WHERE" -a "$WHERE" = "$SAME" ]', { WHERE: "it's b\nline \\two", SAME: "it's b\nline \\two" }),
      test('b', 'test -f flag', {}),
      test('a', '[ -z "$HOME" ]', {}),
    ]);
    expect(literal).toEqual({ ok: true, output: '', code: 0, probes: 1 });
    expect(relative).toEqual({ ok: true, output: '', code: 0, probes: 1 });
    expect(variable).toEqual({ ok: true, output: '', code: 0, probes: 1 });
    expect(other).toEqual({ ok: false, output: '', code: 1, probes: 3 });
    expect(unset).toEqual({ ok: true, output: '', code: 0, probes: 1 });
  });

  it('answers when one starts passing, with its error output when it prints, at once when woken, and not after a kill', async () => {
    const root = tempDir();
    const { shared, register } = prober();
    const id = (command: string) => register({ command, env: { DIR: root }, cwd: root, outputPath: join(root, `${command.length}.out`) });
    const up = id('test -f "$DIR/up"');
    const waiting = shared.run(up, 5, 2000);
    writeFileSync(join(root, 'up'), '');
    const passed = await waiting.result;
    expect(passed).toMatchObject({ ok: true, code: 0 });
    expect(passed.probes).toBeLessThan(2000);
    const wrong = id('[ -f a b ]');
    for (let run = 0; run < 2; run++) {
      const answer = await shared.run(wrong, 5, 2).result;
      expect(answer).toMatchObject({ ok: false, code: 2, probes: 2 });
      expect(answer.output.trim().split('\n')).toEqual([expect.stringMatching(/binary operator expected/)]);
    }
    // Due in an hour: a wake makes it now.
    const later = shared.run(up, 3_600_000, 1);
    later.wake?.();
    expect(await later.result).toMatchObject({ ok: true, probes: 1 });
    const never = id('test -f "$DIR/never"');
    const killed = shared.run(never, 3_600_000, 1);
    killed.kill();
    expect(await killed.result).toEqual({ ok: false, output: '', code: null });
    // The test stays defined: it runs again.
    expect(await shared.run(never, 1, 1).result).toMatchObject({ ok: false, code: 1, probes: 1 });
  });

  it('answers when its failure changes, before its repeats are done', async () => {
    const root = tempDir();
    const { shared, register } = prober();
    // Fails with 1 and leaves a trace; once `worse` exists it fails with 2 and an error instead.
    const command = '[ -f "$DIR/up" ] || { : >>"$DIR/probed"; [ -f "$DIR/worse" ] && [ -f a b ]; }';
    const run = shared.run(register({ command, env: { DIR: root }, cwd: root, outputPath: join(root, 'changed.out') }), 5, 2000);
    await waitFor(() => existsSync(join(root, 'probed')), { what: 'a first probe' });
    writeFileSync(join(root, 'worse'), '');
    const answer = await run.result;
    expect(answer).toMatchObject({ ok: false, code: 2 });
    expect(answer.probes).toBeLessThan(2000);
    expect(answer.output).toMatch(/binary operator expected/);
  });

  it('ends its shell when the last session lets go, and starts another, with the tests still known, for the next', async () => {
    const root = tempDir();
    const shared = newProber();
    const first = shared.register({ command: 'test -d .', env: {}, cwd: root, outputPath: join(root, 'p') });
    expect(await shared.run(first, 1, 1).result).toMatchObject({ ok: true });
    const pid = (await shared.pid())!;
    expect(pidAlive(pid)).toBe(true);
    // Forked by the spawner, not by the daemon (this process): the daemon forks nothing of its own.
    expect(readProcStat(pid)?.ppid).not.toBe(process.pid);
    shared.forget(first);
    await waitFor(() => !pidAlive(pid), { what: 'the shell to end' });
    const second = shared.register({ command: 'test -d .', env: {}, cwd: root, outputPath: join(root, 'p') });
    onTestFinished(() => shared.forget(second));
    expect(await shared.run(second, 1, 1).result).toMatchObject({ ok: true });
    expect(await shared.pid()).not.toBe(pid);
    // Killed from outside: the run under way ends, and the next run has a new shell that knows the test.
    const hanging = shared.run(second, 3_600_000, 1);
    process.kill((await shared.pid())!, 'SIGKILL');
    expect(await hanging.result).toMatchObject({ ok: false, code: null });
    expect(await shared.run(second, 1, 1).result).toMatchObject({ ok: true });
  });

  it('outlives its spawner: the shell ends with it, and the next run has a new shell under a new spawner', async () => {
    const root = tempDir();
    const shared = newProber();
    const id = shared.register({ command: 'test -d .', env: {}, cwd: root, outputPath: join(root, 'p') });
    onTestFinished(() => shared.forget(id));
    expect(await shared.run(id, 1, 1).result).toMatchObject({ ok: true });
    const shell = (await shared.pid())!;
    const spawner = readProcStat(shell)!.ppid;
    const hanging = shared.run(id, 3_600_000, 1);
    process.kill(spawner, 'SIGKILL');
    // Its stdin was the spawner's: the shell sees it close and exits.
    expect(await hanging.result).toMatchObject({ ok: false, code: null });
    await waitFor(() => !pidAlive(shell), { what: 'the shell to end' });
    expect(await shared.run(id, 1, 1).result).toMatchObject({ ok: true });
    const next = (await shared.pid())!;
    expect(next).not.toBe(shell);
    expect(readProcStat(next)!.ppid).not.toBe(spawner);
  });

  it('quotes any value as one line bash reads back exactly', () => {
    expect(ansiQuote("a'b\\c\nd\te")).toBe("$'a\\'b\\\\c\\x0ad\\x09e'");
  });
});
