#!/usr/bin/env node
/**
 * The entry of tend's `gitpod` and `ona` commands (`<state-dir>/bin/gitpod` runs
 * `node gitpod-main.js gitpod ARGS...`). Errors are one line on stderr, never a stack trace for
 * an expected failure.
 */
import { CliError } from '../client/api-client.js';
import { runGitpodCommand } from './gitpod-command.js';

const [name = 'gitpod', ...args] = process.argv.slice(2);
try {
  process.exitCode = await runGitpodCommand(name, args, process.env);
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`${name}: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
