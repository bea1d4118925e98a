/**
 * `tend completion bash|zsh|fish`: a completion script made from the command tree itself (so it
 * never falls behind a new command or option): commands, subcommands, options, the values a few
 * arguments take (trigger names, shells), files after an option that takes a path, and the names
 * of the workspace's services and tasks, which the script asks `tend completion names` for (it
 * prints nothing when no daemon runs).
 */
import type { Command, Option } from 'commander';
import { resolveStateDir } from '../app/state-dir.js';
import { CliError, connect } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { TRIGGER_NAMES } from '../domain/enums.js';
import type { Service, Task } from '../domain/schema.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** What a command's arguments are, for the commands whose arguments can be listed. */
const ARGUMENTS: Readonly<Record<string, string>> = {
  up: '$NAMES',
  stop: '$SERVICES',
  logs: '$NAMES',
  trigger: TRIGGER_NAMES.join(' '),
  completion: SHELLS.join(' '),
  'services/start': '$SERVICES',
  'services/stop': '$SERVICES',
  'services/restart': '$SERVICES',
  'services/logs': '$SERVICES',
  'tasks/start': '$TASKS',
  'tasks/logs': '$TASKS',
};

interface Entry {
  readonly path: string;
  readonly words: string[];
  readonly arguments: string;
}

function visible(command: Command): Command[] {
  return command.commands.filter((sub) => !(sub as unknown as { _hidden?: boolean })._hidden);
}

function flags(option: Option): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined);
}

function entries(program: Command): { entries: Entry[]; valueOptions: string[] } {
  const found: Entry[] = [];
  const valueOptions = new Set<string>();
  const walk = (command: Command, path: string): void => {
    const options = command.options.flatMap((option) => {
      if (option.required || option.optional) flags(option).forEach((flag) => valueOptions.add(flag));
      return option.long === undefined ? [] : [option.long];
    });
    const subs = visible(command);
    found.push({ path, words: [...subs.map((sub) => sub.name()), ...options, '--help'], arguments: ARGUMENTS[path] ?? '' });
    for (const sub of subs) walk(sub, path === '' ? sub.name() : `${path}/${sub.name()}`);
  };
  walk(program, '');
  return { entries: found, valueOptions: [...valueOptions].sort() };
}

/** `$NAMES` and friends become the command that lists them. */
function expand(words: string, shell: 'bash' | 'zsh' | 'fish'): string {
  const call = (what: string): string => (shell === 'fish' ? `(tend completion names ${what} 2>/dev/null)` : `$(tend completion names ${what} 2>/dev/null)`);
  return words.replace('$NAMES', call('all')).replace('$SERVICES', call('services')).replace('$TASKS', call('tasks'));
}

function bash(program: Command): string {
  const { entries: all, valueOptions } = entries(program);
  const cases = all.map((entry) => `    '${entry.path}') words="${[...entry.words, expand(entry.arguments, 'bash')].join(' ').trim()}" ;;`).join('\n');
  return `# tend completion for bash. Load it with: source <(tend completion bash)
_tend() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmdpath='' words='' w i
  local values=' ${valueOptions.join(' ')} ' paths=' ${all.map((entry) => entry.path).filter((path) => path !== '').join(' ')} '
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $values == *" $w "* ]]; then ((i++)); continue; fi
    [[ $w == -* ]] && continue
    if [[ $paths == *" \${cmdpath:+$cmdpath/}$w "* ]]; then cmdpath=\${cmdpath:+$cmdpath/}$w; fi
  done
  if [[ $values == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  case $cmdpath in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _tend tend
`;
}

function zsh(program: Command): string {
  const { entries: all, valueOptions } = entries(program);
  const cases = all.map((entry) => `    '${entry.path}') candidates=(${[...entry.words, expand(entry.arguments, 'zsh')].join(' ').trim()}) ;;`).join('\n');
  return `#compdef tend
# tend completion for zsh. Load it with: source <(tend completion zsh)
_tend() {
  local -a values paths candidates
  local cmdpath='' w i
  values=(${valueOptions.join(' ')})
  paths=(${all.map((entry) => entry.path).filter((path) => path !== '').join(' ')})
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    if (( \${values[(Ie)$w]} )); then ((i++)); continue; fi
    [[ $w == -* ]] && continue
    if (( \${paths[(Ie)\${cmdpath:+$cmdpath/}$w]} )); then cmdpath=\${cmdpath:+$cmdpath/}$w; fi
  done
  if (( \${values[(Ie)\${words[CURRENT-1]}]} )); then
    _files
    return
  fi
  case $cmdpath in
${cases}
  esac
  compadd -- $candidates
}
if (( $+functions[compdef] )); then compdef _tend tend; fi
`;
}

function fish(program: Command): string {
  const { entries: all, valueOptions } = entries(program);
  const lines = all.map((entry) => {
    const words = [...entry.words, expand(entry.arguments, 'fish')].join(' ').trim();
    return `complete -c tend -n '__tend_is "${entry.path}"' -a '${words}'`;
  });
  return `# tend completion for fish. Load it with: tend completion fish | source
function __tend_path
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmdpath ''
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        if contains -- $w ${valueOptions.join(' ')}
            set skip 1
            continue
        end
        if string match -q -- '-*' $w
            continue
        end
        set -l next (string join / -- $cmdpath $w | string trim -c /)
        if contains -- $next ${all.map((entry) => entry.path).filter((path) => path !== '').join(' ')}
            set cmdpath $next
        end
    end
    echo $cmdpath
end
function __tend_is
    test (__tend_path) = "$argv[1]"
end
function __tend_wants_value
    set -l words (commandline -opc)
    contains -- $words[-1] ${valueOptions.join(' ')}
end
complete -c tend -f
complete -c tend -n __tend_wants_value -F
${lines.join('\n')}
`;
}

export function completionScript(shell: string, program: Command): string {
  if (shell === 'bash') return bash(program);
  if (shell === 'zsh') return zsh(program);
  if (shell === 'fish') return fish(program);
  throw new CliError(`Unknown shell "${shell}": use ${SHELLS.join(', ')}`, 2);
}

/** The references the completion scripts offer: services, tasks or both, of the running daemon. */
export async function printNames(what: string, options: { stateDir?: string; workspace?: string }): Promise<void> {
  try {
    const client = connect(resolveStateDir(options));
    const names: string[] = [];
    if (what !== 'tasks') names.push(...(await listAll<Service>(client.call, 'ListServices', 'services')).map((service) => service.metadata.reference ?? ''));
    if (what !== 'services') names.push(...(await listAll<Task>(client.call, 'ListTasks', 'tasks')).map((task) => task.metadata.reference ?? ''));
    process.stdout.write(names.filter((name) => name !== '').map((name) => `${name}\n`).join(''));
  } catch {
    // No daemon, no names: completion offers the rest.
  }
}
