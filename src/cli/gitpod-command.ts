/**
 * `gitpod` and `ona` inside the commands tend runs: the subcommands real automations files call,
 * backed by the daemon of GITPOD_BASE_URL (with GITPOD_API_KEY), which every command gets. Any
 * other subcommand says in one line that tend does not provide it and exits 1: a script learns at
 * once that it asked for something tend cannot do, rather than half of it happening.
 */
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import { apiClient, CliError, type ApiClient } from '../client/api-client.js';

export const PROVIDED = [
  'automations service start REF',
  'automations service stop REF',
  'automations service logs REF [--follow]',
  'automations task start REF',
  'environment port open PORT [--name NAME]',
  'environment port list',
  'environment port close PORT',
];

const POLL_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface Parsed {
  readonly words: string[];
  readonly flags: Map<string, string | true>;
}

/** Words and `--flag value` / `--flag=value` / `-f`; `withValue` names the flags that take a value. */
function parse(args: readonly string[], withValue: ReadonlySet<string>): Parsed {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    const [flag, inline] = arg.split(/=(.*)/s) as [string, string | undefined];
    if (inline !== undefined) flags.set(flag, inline);
    else if (withValue.has(flag) && index + 1 < args.length) flags.set(flag, args[++index]!);
    else flags.set(flag, true);
  }
  return { words, flags };
}

class NotProvided extends CliError {
  constructor(name: string, what: string) {
    super(`tend does not provide "${name} ${what}" (\`${name} help\` lists what it provides)`, 1);
  }
}

function portArgument(name: string, text: string | undefined): number {
  const port = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || port < 1 || port > 65_535) {
    throw new CliError(`Invalid port ${text === undefined ? '(none given)' : `"${text}"`}: give a number from 1 to 65535, as in \`${name} environment port open 3000\``, 2);
  }
  return port;
}

async function findByReference<T extends Service | Task>(client: ApiClient, kind: 'service' | 'task', reference: string): Promise<T> {
  const method = kind === 'service' ? 'ListServices' : 'ListTasks';
  const page = await client.call<{ services?: T[]; tasks?: T[] }>(method, { filter: { references: [reference] } });
  const found = (kind === 'service' ? page.services : page.tasks)?.[0];
  if (found === undefined) throw new CliError(`${kind === 'service' ? 'Service' : 'Task'} "${reference}" not found in the automations of ${client.info.url}`);
  return found;
}

async function printLog(client: ApiClient, url: string, follow: boolean): Promise<void> {
  const response = await client.fetchLog(url, { follow: follow ? 'true' : 'false' });
  for await (const chunk of response.body ?? []) process.stdout.write(chunk as Uint8Array);
}

function finished(execution: TaskExecution): boolean {
  return ['TASK_EXECUTION_PHASE_SUCCEEDED', 'TASK_EXECUTION_PHASE_FAILED', 'TASK_EXECUTION_PHASE_STOPPED'].includes(execution.status.phase);
}

/** Starts the task, prints its output as it runs, and exits with its outcome. */
async function startTask(client: ApiClient, reference: string): Promise<number> {
  const task = await findByReference<Task>(client, 'task', reference);
  let { taskExecution: execution } = await client.call<{ taskExecution: TaskExecution }>('StartTask', { id: task.id });
  let printed = false;
  while (!finished(execution)) {
    if (!printed && execution.status.logUrl !== undefined && execution.status.logUrl !== '') {
      printed = true;
      // The stream ends when the execution does.
      await printLog(client, execution.status.logUrl, true);
    } else {
      await sleep(POLL_MS);
    }
    ({ taskExecution: execution } = await client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id: execution.id }));
  }
  if (execution.status.phase === 'TASK_EXECUTION_PHASE_SUCCEEDED') return 0;
  const why = execution.status.failureMessage?.split('\n')[0];
  throw new CliError(`Task "${reference}" ${execution.status.phase === 'TASK_EXECUTION_PHASE_STOPPED' ? 'was stopped' : 'failed'}${why === undefined ? '' : `: ${why}`}`);
}

interface ListedPort {
  port: number;
  name: string;
  url: string;
}

async function automations(client: ApiClient, name: string, args: Parsed): Promise<number> {
  const [kind, verb, reference, ...rest] = args.words.slice(1);
  const what = args.words.join(' ');
  const allowed = kind === 'service' && verb === 'logs' ? ['--follow', '-f'] : [];
  const unknownFlag = [...args.flags.keys()].find((flag) => !allowed.includes(flag));
  if (unknownFlag !== undefined) throw new NotProvided(name, `${what} ${unknownFlag}`);
  if (reference === undefined || rest.length > 0) throw new NotProvided(name, what);
  if (kind === 'service' && (verb === 'start' || verb === 'stop')) {
    const service = await findByReference<Service>(client, 'service', reference);
    await client.call(verb === 'start' ? 'StartService' : 'StopService', { id: service.id });
    return 0;
  }
  if (kind === 'service' && verb === 'logs') {
    const service = await findByReference<Service>(client, 'service', reference);
    const url = service.status.logUrl;
    if (url === undefined || url === '') throw new CliError(`Service "${reference}" has not run yet: it has no log`);
    await printLog(client, url, args.flags.has('--follow') || args.flags.has('-f'));
    return 0;
  }
  if (kind === 'task' && verb === 'start') return startTask(client, reference);
  throw new NotProvided(name, what);
}

async function environmentPort(client: ApiClient, name: string, args: Parsed): Promise<number> {
  const [, , verb, port, ...rest] = args.words;
  const what = args.words.join(' ');
  const unknownFlag = [...args.flags.keys()].find((flag) => !(verb === 'open' && flag === '--name'));
  if (unknownFlag !== undefined) throw new NotProvided(name, `${what} ${unknownFlag}`);
  const daemon = <T>(method: string, body: unknown): Promise<T> => client.call<T>(method, body, 'tend.v1.DaemonService');
  if (verb === 'list' && port === undefined) {
    const { ports } = await daemon<{ ports: ListedPort[] }>('ListPorts', {});
    for (const entry of ports) process.stdout.write(`${entry.port}\t${entry.name === '' ? '-' : entry.name}\t${entry.url}\n`);
    return 0;
  }
  if ((verb === 'open' || verb === 'close') && rest.length === 0) {
    const number = portArgument(name, port);
    if (verb === 'close') {
      await daemon('ClosePort', { port: number });
      return 0;
    }
    const label = args.flags.get('--name');
    const runId = process.env.TEND_SESSION_ID;
    const { port: opened } = await daemon<{ port: ListedPort }>('OpenPort', {
      port: number,
      ...(typeof label === 'string' ? { name: label } : {}),
      ...(runId !== undefined && runId !== '' ? { runId } : {}),
    });
    process.stdout.write(`${opened.url}\n`);
    return 0;
  }
  throw new NotProvided(name, what);
}

/** Runs `name args...` (name: gitpod or ona); resolves with the exit code, throws CliError. */
export async function runGitpodCommand(name: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = parse(argv, new Set(['--name']));
  const [group, sub] = args.words;
  if (args.words.length === 0 || group === 'help' || args.flags.has('--help') || args.flags.has('-h')) {
    process.stdout.write(`${name} inside tend: the subcommands tend provides, backed by its daemon (GITPOD_BASE_URL)\n${PROVIDED.map((usage) => `  ${name} ${usage}\n`).join('')}`);
    return 0;
  }
  const supported = (group === 'automations' && (sub === 'service' || sub === 'task')) || (group === 'environment' && sub === 'port');
  if (!supported) throw new NotProvided(name, args.words.join(' '));
  const url = env.GITPOD_BASE_URL ?? '';
  const token = env.GITPOD_API_KEY ?? '';
  if (url === '' || token === '') {
    throw new CliError(`Cannot reach tend: GITPOD_BASE_URL and GITPOD_API_KEY are not set (tend sets them for the commands it runs; elsewhere run \`eval "$(tend env)"\`)`);
  }
  const client = apiClient({ url, pid: 0, environmentId: env.GITPOD_ENVIRONMENT_ID ?? '' }, token);
  return group === 'automations' ? automations(client, name, args) : environmentPort(client, name, args);
}
