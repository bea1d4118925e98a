#!/usr/bin/env node
/**
 * The `tend` command: runs the command tree of `program.ts`. Every usage error exits 2 (commander
 * itself exits 1); an expected failure (`CliError`) is one line on stderr, never a stack trace.
 */
import { CommanderError } from 'commander';
import { CliError } from '../client/api-client.js';
import { buildProgram } from './program.js';

// Output into a pipe that closed (`tend logs | head`) is no failure. A terminal that closed (EIO)
// is followed by SIGHUP: a foreground `tend up` still has to stop everything, so it goes on.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
// A background read that fails with an expected failure says so in one line, like the rest.
process.on('unhandledRejection', (reason) => {
  report(reason);
  process.exit();
});

function report(error: unknown): void {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CliError) {
    process.stderr.write(`tend: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    // Not an expected failure: a bug, whose stack is what a report needs.
    process.stderr.write(`tend: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  report(error);
}
