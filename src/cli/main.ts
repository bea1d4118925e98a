#!/usr/bin/env node
/**
 * The `tend` command. Scripts outside the project rely on the exact forms of these commands.
 */
import { Command, CommanderError } from 'commander';
import { readDaemonInfo, readToken, resolveStateDir } from '../app/state-dir.js';
import { CliError } from './client.js';
import { stateDirOption, type StateDirOptions } from './options.js';
import { servicesCommand } from './services-command.js';
import { executionsCommand, tasksCommand } from './tasks-command.js';

const program = new Command('tend')
  .description('A supervisor for development environments: runs automations.yaml and serves the Gitpod automations API')
  .version('0.1.0')
  .showHelpAfterError();

stateDirOption(program.command('daemon').description('run the daemon in the foreground'))
  .option('--listen <host:port>', 'address to listen on; port 0 picks a free port', '127.0.0.1:0')
  .option('--stop-timeout <duration>', 'grace between SIGTERM and SIGKILL when stopping a service', '2m')
  .option('--task-stop-timeout <duration>', 'grace between SIGTERM and SIGKILL when stopping a task execution', '10s')
  .option('--readiness-timeout <duration>', 'how long a service may stay STARTING (0: no limit)', '0')
  .option('--probe-interval <duration>', 'first pause between ready probes (it doubles up to 1s)', '50ms')
  .option('--environment-id <id>', 'environment id (default: GITPOD_ENVIRONMENT_ID, or generated once)')
  // Loaded only here: the server, store and engine are not needed by the other commands.
  .action(async (options) => (await import('./daemon-command.js')).runDaemonCommand(options));

stateDirOption(program.command('env').description('print the exports that point the SDK and CLI at the running daemon'))
  .action((options: StateDirOptions) => {
    const stateDir = resolveStateDir(options);
    const info = readDaemonInfo(stateDir);
    const token = readToken(stateDir);
    if (info === undefined || token === undefined) {
      throw new CliError(`No tend daemon is running for state directory ${stateDir}: start one with \`tend daemon\``);
    }
    process.stdout.write(
      `export GITPOD_BASE_URL=${info.url}\nexport GITPOD_API_KEY=${token}\nexport GITPOD_ENVIRONMENT_ID=${info.environmentId}\n`,
    );
  });

program.addCommand(servicesCommand());
program.addCommand(tasksCommand());
program.addCommand(executionsCommand());

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof CliError) {
    process.stderr.write(`tend: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`tend: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
