import type { Command } from 'commander';

export interface StateDirOptions {
  stateDir?: string;
  workspace?: string;
}

/**
 * Adds --state-dir and --workspace. The workspace defaults to the nearest directory upward with an
 * automations file or a `.tend` state directory; the state directory to <workspace>/.tend.
 */
export function stateDirOption(command: Command): Command {
  return command
    .option('--state-dir <dir>', 'state directory of the daemon (default: <workspace>/.tend, or TEND_STATE_DIR)')
    .option('--workspace <dir>', 'workspace directory (default: the nearest directory upward with .gitpod/automations.yaml, .ona/automations.yaml or .tend)');
}
