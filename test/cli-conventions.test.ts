/**
 * The CLI's conventions: usage errors exit 2 for every command, every command's --help has an
 * example, a missing daemon says to run `tend up`, NO_COLOR and FORCE_COLOR, shell completion
 * that works in bash (and parses in zsh and fish, and completes in fish), and no stack trace
 * for a closed pipe.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Command, CommanderError } from 'commander';
import { EXAMPLES } from '../src/cli/examples.js';
import { buildProgram } from '../src/cli/program.js';
import { findProcesses, sendSignal } from '../src/runtime/machine/proc.js';
import { CLI, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Runs many CLI calls, a few at a time. */
async function inBatches<T, R>(items: readonly T[], run: (item: T) => Promise<R>, size = 4): Promise<R[]> {
  const results: R[] = [];
  for (let index = 0; index < items.length; index += size) results.push(...(await Promise.all(items.slice(index, index + size).map(run))));
  return results;
}

/** Every command of the tree with its path (`services/restart`), hidden ones left out. */
function commands(command: Command, path = ''): Array<{ path: string; command: Command }> {
  return command.commands
    .filter((sub) => !(sub as unknown as { _hidden: boolean })._hidden)
    .flatMap((sub) => {
      const subPath = path === '' ? sub.name() : `${path}/${sub.name()}`;
      return [{ path: subPath, command: sub }, ...commands(sub, subPath)];
    });
}

/** Parses `args` in-process; the error commander raised, if any, and what it wrote. */
async function parse(args: string[]): Promise<{ error: CommanderError | undefined; out: string }> {
  const program = buildProgram();
  let out = '';
  const capture = (command: Command): void => {
    command.configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (out += text) });
    command.commands.forEach(capture);
  };
  capture(program);
  try {
    await program.parseAsync(['node', 'tend', ...args]);
    return { error: undefined, out };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { error, out };
  }
}

describe('usage errors and help', () => {
  it('every command has an example in its --help, and every unknown option is a usage error', async () => {
    const all = commands(buildProgram());
    expect(all.map(({ path }) => path)).toEqual(expect.arrayContaining(['up', 'down', 'ps', 'logs', 'restart', 'status', 'completion', 'services/restart', 'tasks/start']));
    expect(all.filter(({ path }) => EXAMPLES[path] === undefined).map(({ path }) => path)).toEqual([]);
    for (const { path } of all) {
      const help = await parse([...path.split('/'), '--help']);
      expect(help.error?.exitCode, path).toBe(0);
      expect(help.out, path).toMatch(/\nExamples?:\n {2}\$ .*\btend\b/);
      const unknown = await parse([...path.split('/'), '--no-such-option']);
      expect(unknown.error?.code, path).toBe('commander.unknownOption');
      expect(unknown.out, path).toContain(`error: unknown option '--no-such-option'\n(\`tend ${path.replaceAll('/', ' ')} --help\` shows what it takes, with an example)`);
    }
  });

  it('usage errors exit 2 with what is wrong and where to look, never a stack trace', async () => {
    const cases: Array<[string[], string]> = [
      [['nosuch'], "error: unknown command 'nosuch'\n(`tend --help` shows what it takes, with an example)\n"],
      [['services', 'start'], "error: missing required argument 'reference'"],
      [['ps', 'extra'], 'error: too many arguments'],
      [['up', '--no-such-option'], "error: unknown option '--no-such-option'"],
      [['trigger', 'manul'], 'tend: Unknown trigger "manul" (did you mean "manual"?)'],
      [['completion', 'tcsh'], 'tend: Unknown shell "tcsh": use bash, zsh, fish'],
      [['logs', '-n', 'x'], 'tend: Invalid --tail "x": give a number of lines, or all'],
      [['up', '--wait-timeout', '2m'], 'tend: --wait-timeout goes with --detach: `tend up --detach --wait-timeout 2m`'],
      [['daemon', '--stop-timeout', '5x'], 'tend: Invalid --stop-timeout'],
    ];
    const results = await inBatches(cases, ([args]) => runCli(args, { cwd: tempDir() }));
    results.forEach((result, index) => {
      expect(result.code, cases[index]![0].join(' ')).toBe(2);
      expect(result.stderr, cases[index]![0].join(' ')).toContain(cases[index]![1]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('says to run tend up when no daemon runs', async () => {
    const dir = tempDir();
    for (const args of [['ps'], ['logs'], ['env'], ['restart', 'web']]) {
      const result = await runCli([...args, '--state-dir', dir]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toBe(`tend: No tend daemon is running for state directory ${dir}: \`tend up\` starts one\n`);
    }
  });

  it('a closed pipe is no failure and no stack trace', () => {
    const result = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" completion bash | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('0');
  });
});

describe('colour and completion with a running daemon', () => {
  it('colours prefixes only on a terminal or with FORCE_COLOR, never with NO_COLOR; completion offers commands, options and names', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.gitpod'));
    writeFileSync(join(dir, '.gitpod', 'automations.yaml'), 'services:\n  web:\n    commands: {start: "echo serving; exec sleep 60"}\n    triggeredBy: [postEnvironmentStart]\ntasks:\n  seed: {command: "echo seeded"}\n');
    const tag = randomUUID();
    onTestFinished(async () => {
      await runCli(['down', '--workspace', dir]);
      for (const ref of findProcesses([], 'TEST_TAG', tag)) sendSignal(ref.pid, 'SIGKILL');
    });
    const tend = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--workspace', dir], { cwd: dir, env: { TEST_TAG: tag, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });
    expect((await tend(['up', '--detach'])).code).toBe(0);

    expect((await tend(['logs', 'web'])).stdout).toBe('web  | serving\n');
    expect((await tend(['logs', 'web'], { FORCE_COLOR: '1' })).stdout).toMatch(/^\u001b\[\d+mweb {2}\| \u001b\[39mserving\n$/);
    expect((await tend(['logs', 'web'], { NO_COLOR: '1' })).stdout).toBe('web  | serving\n');

    const script = (await runCli(['completion', 'bash'])).stdout;
    const file = join(dir, 'tend.bash');
    writeFileSync(file, script);
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const program = [
        `tend() { "${process.execPath}" "${CLI}" "$@"; }`,
        `source "${file}"`,
        `COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        '_tend',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
      return execFileSync('bash', ['-c', program], { cwd: dir, encoding: 'utf8' }).split('\n').filter(Boolean);
    };
    expect(complete('tend ser')).toEqual(['services']);
    expect(complete('tend services re')).toEqual(['restart']);
    expect(complete('tend up --de')).toEqual(['--detach']);
    expect(complete('tend trigger ma')).toEqual(['manual']);
    expect(complete('tend logs ')).toEqual(expect.arrayContaining(['web', 'seed', '--follow']));
    expect(complete('tend services restart ')).toContain('web');
    expect(complete('tend services restart ')).not.toContain('seed');
    expect(complete('tend --state-dir x services st')).toEqual(['start', 'stop']);

    if (has('zsh')) {
      writeFileSync(join(dir, 'tend.zsh'), (await runCli(['completion', 'zsh'])).stdout);
      expect(spawnSync('zsh', ['-n', join(dir, 'tend.zsh')], { encoding: 'utf8' }).stderr).toBe('');
    }
    if (has('fish')) {
      writeFileSync(join(dir, 'tend.fish'), (await runCli(['completion', 'fish'])).stdout);
      const fish = (line: string) =>
        execFileSync('fish', ['--no-config', '-c', `function tend; "${process.execPath}" "${CLI}" $argv; end; source "${join(dir, 'tend.fish')}"; complete -C '${line}'`], { cwd: dir, encoding: 'utf8' })
          .split('\n')
          .map((entry) => entry.split('\t')[0])
          .filter(Boolean);
      expect(fish('tend ser')).toEqual(['services']);
      expect(fish('tend services ')).toEqual(expect.arrayContaining(['list', 'start', 'stop', 'restart', 'logs']));
      expect(fish('tend logs ')).toEqual(expect.arrayContaining(['web', 'seed']));
    }
  });
});
