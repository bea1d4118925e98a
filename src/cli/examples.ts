/**
 * An example for the `--help` of every command, by its path (`services/restart`). `addExamples`
 * puts them under each command's help; a command without one is a test failure
 * (`test/cli-conventions.test.ts`).
 */
import type { Command } from 'commander';

export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': ['tend up                      # start the workspace, show the TUI', 'tend ps                      # what runs', 'tend logs -f web             # follow a service'],
  daemon: ['tend daemon --workspace . --listen 127.0.0.1:7777'],
  env: ['eval "$(tend env)"   # point the SDK and gitpod at this daemon'],
  up: ['tend up                              # TUI on a terminal, prefixed output elsewhere', 'tend up web worker                   # only these (and what they depend on)', 'tend up --detach --wait-timeout 2m   # wait until ready, then return'],
  down: ['tend down'],
  ps: ['tend ps', 'tend ps --json'],
  logs: ['tend logs                 # everyone\'s output so far', 'tend logs -f -t web build # follow two, with the time each line came', 'tend logs -n 20 api'],
  stop: ['tend stop           # every service; the daemon goes on', 'tend stop web worker'],
  restart: ['tend restart web'],
  trigger: ['tend trigger manual'],
  prebuild: ['tend prebuild'],
  status: ['tend status', 'tend status --json'],
  dashboard: ['tend dashboard         # opens it in your browser', 'tend dashboard --url   # prints the link (it logs in once)'],
  mcp: ['claude mcp add tend -- tend mcp'],
  validate: ['tend validate', 'tend validate .gitpod/automations.yaml'],
  schema: ['tend schema > automations.schema.json'],
  completion: ['source <(tend completion bash)      # in ~/.bashrc', 'source <(tend completion zsh)       # in ~/.zshrc', 'tend completion fish | source       # in ~/.config/fish/config.fish'],
  services: ['tend services list', 'tend services restart web'],
  'services/list': ['tend services list'],
  'services/start': ['tend services start web'],
  'services/stop': ['tend services stop web'],
  'services/restart': ['tend services restart web'],
  'services/logs': ['tend services logs -f web'],
  tasks: ['tend tasks list', 'tend tasks start build --wait'],
  'tasks/list': ['tend tasks list'],
  'tasks/start': ['tend tasks start build --wait   # its output as it runs, then its outcome'],
  'tasks/logs': ['tend tasks logs build'],
  executions: ['tend executions list'],
  'executions/list': ['tend executions list'],
  'executions/show': ['tend executions show 0b6c2a1e-…'],
  'executions/stop': ['tend executions stop 0b6c2a1e-…'],
};

export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent != null; current = current.parent) names.unshift(current.name());
  return names.join('/');
}

export function addExamples(command: Command): void {
  const examples = EXAMPLES[commandPath(command)];
  if (examples !== undefined) {
    command.addHelpText('after', `\nExample${examples.length === 1 ? '' : 's'}:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
  }
  for (const sub of command.commands) addExamples(sub);
}
