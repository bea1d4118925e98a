/**
 * The `tend` command tree: every command, its options, its action and its help example. Scripts
 * outside the project rely on the exact forms of these commands. `main.ts` runs it; tests walk it.
 */
import { Command } from 'commander';
import { readDaemonInfo, readRunnerToken, readToken, resolveStateDir } from '../app/state-dir.js';
import { resolveWorkspace } from '../app/workspace.js';
import { CliError } from '../client/api-client.js';
import { stateDirOption, type StateDirOptions } from './options.js';
import { servicesCommand } from './services-command.js';
import { executionsCommand, tasksCommand } from './tasks-command.js';
import { runDown, runPrebuild, runTrigger, runUp, type UpOptions } from './up-command.js';
import { runStatus } from './status-command.js';
import { runMcp } from './mcp-command.js';
import { runDashboard, type DashboardCommandOptions } from './dashboard-command.js';
import { runPs } from './ps-command.js';
import { runLogs, type LogsOptions } from './logs-command.js';
import { restartServices, stopServices } from './services-command.js';
import { completionScript, printNames, SHELLS } from './completion-command.js';
import { addExamples, commandPath } from './examples.js';
import { TRIGGER_NAMES, type TriggerName } from '../domain/enums.js';
import { didYouMean } from '../config/did-you-mean.js';
import { findAutomationsFile } from '../config/file-location.js';
import { formatProblem, InvalidAutomationsFile } from '../config/problem.js';


export function buildProgram(): Command {
  const program = new Command('tend')
    .description('A supervisor for development environments: runs automations.yaml and serves the Gitpod automations API')
    .version('0.1.0');

  stateDirOption(program.command('daemon').description('run the daemon in the foreground'))
    .option('--listen <host:port>', 'address to listen on; port 0 picks a free port', '127.0.0.1:0')
    .option('--stop-timeout <duration>', 'grace between SIGTERM and SIGKILL when stopping a service', '2m')
    .option('--task-stop-timeout <duration>', 'grace between SIGTERM and SIGKILL when stopping a task execution', '10s')
    .option('--readiness-timeout <duration>', 'how long a service may stay STARTING (0: no limit)', '0')
    .option('--probe-interval <duration>', 'pause between ready probes for their first 400 ms (then it doubles up to 100 ms)', '20ms')
    .option('--probe-timeout <duration>', 'how long one ready probe may run before it is killed (the readiness timeout still ends the wait)', '2m')
    .option('--shell <path>', 'the shell that runs start, ready and stop commands on the machine (default: bash, else /bin/sh)')
    .option('--environment-id <id>', 'environment id (default: GITPOD_ENVIRONMENT_ID, or generated once)')
    .option('--max-log-size <size>', 'size of one session log before it is rotated (B, KiB, MiB, GiB)', '64MiB')
    .option('--file <path>', 'automations file to load and watch (default: .gitpod/automations.yaml or .ona/automations.yaml)')
    .option('--trigger <name...>', 'triggers to fire once the automations file is applied')
    .option('--control-plane <url>', 'runner mode: run what this control plane lists and report every status back to it')
    .option('--control-plane-token-file <path>', 'file with the token for the control plane (default: TEND_CONTROL_PLANE_TOKEN)')
    .option('--serve-only', 'be a control plane: keep specs and serve the API, run nothing; runners report status with the runner token')
    // Loaded only here: the server, store and engine are not needed by the other commands.
    .action(async (options) => (await import('./daemon-command.js')).runDaemonCommand(options));

  stateDirOption(program.command('env').description('print the exports that point the SDK and CLI at the running daemon'))
    .option('--runner', 'of a serve-only daemon: the exports a runner needs (TEND_CONTROL_PLANE_URL, TEND_CONTROL_PLANE_TOKEN, GITPOD_ENVIRONMENT_ID)')
    .action((options: StateDirOptions & { runner?: boolean }) => {
      const stateDir = resolveStateDir(options);
      const info = readDaemonInfo(stateDir);
      const token = readToken(stateDir);
      if (info === undefined || token === undefined) {
        throw new CliError(`No tend daemon is running for state directory ${stateDir}: \`tend up\` starts one`);
      }
      if (options.runner === true) {
        const runnerToken = readRunnerToken(stateDir);
        if (runnerToken === undefined) {
          throw new CliError(`The daemon of ${stateDir} is not serve-only, so runners cannot report to it: start it with \`tend daemon --serve-only\``);
        }
        process.stdout.write(
          `export TEND_CONTROL_PLANE_URL=${info.url}\nexport TEND_CONTROL_PLANE_TOKEN=${runnerToken}\nexport GITPOD_ENVIRONMENT_ID=${info.environmentId}\n`,
        );
        return;
      }
      process.stdout.write(
        `export GITPOD_BASE_URL=${info.url}\nexport GITPOD_API_KEY=${token}\nexport GITPOD_ENVIRONMENT_ID=${info.environmentId}\n`,
      );
    });

  stateDirOption(
    program
      .command('up [names...]')
      .description('start the daemon, fire postEnvironmentStart and postDevcontainerStart (or start only the services and tasks named), then show everything live: a TUI on a terminal, prefixed output elsewhere; on a running daemon, attach'),
  )
    .option('--file <path>', 'automations file (default: .gitpod/automations.yaml or .ona/automations.yaml)')
    .option('-d, --detach', 'return once services are RUNNING and tasks have ended, showing what it still waits for; exit code 0 only if all succeeded')
    .option('--wait-timeout <duration>', 'with --detach: give up waiting after this long (exit 1, naming what was not ready); what runs goes on')
    .option('--no-tui', 'the prefixed output stream, also on a terminal')
    .option('--retrigger', 'on a daemon that already fired the start triggers, fire them again (tasks run again)')
    .option('--stop-timeout <duration>', 'grace between SIGTERM and SIGKILL for the daemon it starts')
    .action(async (names: string[], options: UpOptions) => runUp(names, options));

  stateDirOption(program.command('down').description('stop the daemon and everything it runs')).action(async (options: StateDirOptions) =>
    runDown(options),
  );

  stateDirOption(program.command('trigger <names...>').description(`fire triggers on the running daemon (${TRIGGER_NAMES.join(', ')})`)).action(
    async (names: string[], options: StateDirOptions) => {
      const unknown = names.filter((name) => !(TRIGGER_NAMES as readonly string[]).includes(name));
      if (unknown.length > 0) {
        throw new CliError(`Unknown trigger ${unknown.map((name) => `"${name}"${didYouMean(name, TRIGGER_NAMES)}`).join(', ')}: use ${TRIGGER_NAMES.join(', ')}`, 2);
      }
      await runTrigger(names as TriggerName[], options);
    },
  );

  stateDirOption(program.command('prebuild').description('run the prebuild automations, then the beforeSnapshot tasks'))
    .option('--file <path>', 'automations file')
    .action(async (options: UpOptions) => runPrebuild(options));

  stateDirOption(program.command('ps').description('every service and task: kind, name, phase, pid, uptime, ports and why it failed'))
    .option('--json', 'print the rows as JSON')
    .action(async (options: StateDirOptions & { json?: boolean }) => runPs(options));

  stateDirOption(program.command('logs [names...]').description("everyone's output (or the named services' and tasks'), prefixed by name; -f follows across restarts"))
    .option('-f, --follow', 'keep printing new output: next sessions, new executions, added services and tasks too')
    .option('-t, --timestamps', 'prefix each line with the time it arrived (earlier lines have none: the logs keep no times)')
    .option('-n, --tail <lines>', 'only the last N lines of each log (a number, or all)')
    .action(async (names: string[], options: LogsOptions) => runLogs(names, options));

  stateDirOption(program.command('stop [names...]').description('stop services (every one when none is named) by the stop rules, and wait until they are down; the daemon goes on'))
    .option('--json', 'print the services as JSON')
    .action(async (names: string[], options: StateDirOptions & { json?: boolean }) => stopServices(names, options));

  stateDirOption(program.command('restart <names...>').description('restart services: stop each by the stop rules, start it again, wait until it is running'))
    .option('--json', 'print the services as JSON')
    .action(async (names: string[], options: StateDirOptions & { json?: boolean }) => restartServices(names, options));

  stateDirOption(program.command('status').description("the daemon, its automations file (and its problems) and what runs"))
    .option('--json', 'print it as JSON')
    .action(async (options: StateDirOptions & { json?: boolean }) => runStatus(options));

  stateDirOption(program.command('dashboard').description("open the daemon's web dashboard in a browser (the URL logs in once)"))
    .option('--url', 'only print the URL, on one line')
    .action(async (options: DashboardCommandOptions) => runDashboard(options));

  stateDirOption(program.command('mcp').description('a Model Context Protocol server over stdio, for coding agents; starts the daemon if none runs'))
    .option('--file <path>', 'automations file for the daemon it starts (default: .gitpod/automations.yaml or .ona/automations.yaml)')
    .action(async (options: UpOptions) => runMcp(options, program.version() ?? ''));

  program
    .command('validate [file]')
    .description('check an automations file; prints every problem with its line and column')
    .option('--workspace <dir>', 'where to look for the file (default: the nearest directory upward with one)')
    .action(async (file: string | undefined, options: { workspace?: string }) => {
      const path = file ?? findAutomationsFile(resolveWorkspace(options));
      if (path === undefined) throw new CliError('No automations file found: give its path, or create .gitpod/automations.yaml', 2);
      // The YAML parser is loaded by what reads a file, not by every command (nor the daemon).
      const { loadAutomationsFile } = await import('../config/load-file.js');
      try {
        const { file: parsed, warnings } = loadAutomationsFile(path);
        const services = Object.keys(parsed.services ?? {}).length;
        const tasks = Object.keys(parsed.tasks ?? {}).length;
        for (const warning of warnings) process.stdout.write(`${formatProblem(path, { ...warning, message: `warning: ${warning.message}` })}\n`);
        const warned = warnings.length === 0 ? '' : ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})`;
        process.stdout.write(`${path} is valid: ${services} service${services === 1 ? '' : 's'}, ${tasks} task${tasks === 1 ? '' : 's'}${warned}\n`);
      } catch (error) {
        if (!(error instanceof InvalidAutomationsFile)) throw error;
        process.stdout.write(`${error.problems.map((problem) => formatProblem(path, problem)).join('\n')}\n`);
        throw new CliError(`${path} has ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`);
      }
    });

  program
    .command('schema')
    .description('print the JSON Schema of automations.yaml, for editors')
    // zod, which makes the schema, is loaded by the commands that check something, not by every one.
    .action(async () => {
      const { automationsJsonSchema } = await import('../config/json-schema.js');
      process.stdout.write(`${JSON.stringify(automationsJsonSchema(), null, 2)}\n`);
    });

  const completion = program
    .command('completion <shell>')
    .description(`print the shell completion script (${SHELLS.join(', ')})`)
    .action((shell: string) => {
      process.stdout.write(completionScript(shell, program));
    });
  // What the completion scripts call for names: the running daemon's services and tasks.
  stateDirOption(completion.command('names [what]', { hidden: true })).action(async (what: string | undefined, options: StateDirOptions) =>
    printNames(what ?? 'all', options),
  );

  program.addCommand(servicesCommand());
  program.addCommand(tasksCommand());
  program.addCommand(executionsCommand());
  addExamples(program);
  exitOverrides(program);
  return program;
}

/**
 * Every usage error of every command is commander's to report, followed by where to look next;
 * `main.ts` makes it exit 2.
 */
function exitOverrides(command: Command): void {
  const path = commandPath(command).split('/').filter(Boolean).join(' ');
  command.exitOverride().showHelpAfterError(`(\`tend${path === '' ? '' : ` ${path}`} --help\` shows what it takes, with an example)`);
  for (const sub of command.commands) exitOverrides(sub);
}
