import type { Command } from 'commander';

export interface StateDirOptions {
  stateDir?: string;
  workspace?: string;
}

/** Adds --state-dir and --workspace; the state directory defaults to <workspace>/.tend. */
export function stateDirOption(command: Command): Command {
  return command
    .option('--state-dir <dir>', 'state directory of the daemon (default: <workspace>/.tend, or TEND_STATE_DIR)')
    .option('--workspace <dir>', 'workspace directory (default: the current directory)');
}
