/**
 * `tend logs [-f] [-t] [-n N] [NAME…]`, as `docker compose logs`: every service's and task's
 * output (or the named ones'), each line prefixed by whose it is, a task's steps under readable
 * headers (`── build (succeeded, 1.2 s)`), never the log's framing. Without `-f`: each service's
 * current (or last) session and each task's latest execution. With `-f`: then whatever comes,
 * across a service's restarts (a new session is a new log), executions started later, and
 * services and tasks added later, until Ctrl-C or the daemon stops. tend's logs keep no times,
 * so `-t` stamps a line with the time it arrived; what was written before has none.
 */
import { resolveStateDir } from '../app/state-dir.js';
import { CliError, connect, type ApiClient } from '../client/api-client.js';
import { LineDecoder } from '../client/line-decoder.js';
import { LogItemParser, sectionHeader, type LogItem } from '../client/log-items.js';
import { lastLines, OutputFollower, SectionCompactor, type InitialOutput, type OutputSource } from '../client/output-follower.js';
import { ResourceWatch } from '../client/resource-watch.js';
import { didYouMean } from '../config/did-you-mean.js';
import type { Service, Task } from '../domain/schema.js';
import { Prefixes, stylesFor } from './styles.js';
import { describeEnd } from './up-follow.js';
import { utcNow } from '../domain/utc-time.js';

export interface LogsOptions {
  stateDir?: string;
  workspace?: string;
  follow?: boolean;
  timestamps?: boolean;
  tail?: string;
}

/** `2026-12-01T10:00:00.123Z` is this wide; a line without a time gets as many spaces. */
const TIMESTAMP_WIDTH = 24;

function tailOption(text: string | undefined): number | undefined {
  if (text === undefined || text === 'all') return undefined;
  if (!/^\d+$/.test(text)) throw new CliError(`Invalid --tail "${text}": give a number of lines, or all`, 2);
  return Number(text);
}

function selection(watch: ResourceWatch, names: readonly string[]): { services: (service: Service) => boolean; tasks: (task: Task) => boolean } {
  if (names.length === 0) return { services: () => true, tasks: () => true };
  const known = [...watch.services.values(), ...watch.tasks.values()].map((resource) => resource.metadata.reference ?? resource.id);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new CliError(`No service or task ${unknown.map((name) => `"${name}"${didYouMean(name, known)}`).join(', ')}: \`tend ps\` lists them all`);
  }
  const has = (resource: Service | Task): boolean => names.includes(resource.metadata.reference ?? resource.id);
  return { services: has, tasks: has };
}

/** Prints one log as it is now (its last `tail` lines). */
async function printLogOnce(
  client: ApiClient,
  source: OutputSource,
  url: string,
  tail: number | undefined,
  compactor: SectionCompactor,
  print: (source: OutputSource, item: LogItem, live: boolean) => void,
): Promise<void> {
  const query: Record<string, string> = { follow: 'false' };
  if (source.kind === 'service' && tail !== undefined) query.tail = String(tail);
  const response = await client.fetchLog(url, query);
  const decoder = new LineDecoder();
  const parser = new LogItemParser();
  const items: LogItem[] = [];
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) for (const line of decoder.push(chunk)) items.push(parser.parse(line));
  for (const line of decoder.end()) items.push(parser.parse(line));
  for (const item of tail === undefined || source.kind === 'service' ? items : lastLines(items, tail)) for (const kept of compactor.push(item)) print(source, kept, false);
}

export async function runLogs(names: readonly string[], options: LogsOptions): Promise<void> {
  const tail = tailOption(options.tail);
  const client = connect(resolveStateDir(options));
  const watch = await ResourceWatch.start(client);
  try {
    const selected = selection(watch, names);
    const all = [...watch.services.values(), ...watch.tasks.values()].map((resource) => resource.metadata.reference ?? resource.id);
    const prefixes = new Prefixes(stylesFor(process.stdout), names.length > 0 ? names : all);
    const print = (source: OutputSource, item: LogItem, live: boolean): void => {
      const time = options.timestamps !== true ? '' : `${live ? utcNow() : ''.padEnd(TIMESTAMP_WIDTH)} `;
      const text = item.kind === 'line' ? item.text : sectionHeader(item);
      const whose = item.kind === 'line' ? (item.section ?? source.name) : item.title;
      process.stdout.write(`${prefixes.prefix(whose)}${time}${text}\n`);
    };
    // A task's latest execution whose log this prints too.
    const shownHere = (executionId: string): boolean => {
      const execution = watch.executions.get(executionId);
      const task = execution === undefined ? undefined : watch.tasks.get(execution.metadata.taskId);
      return task !== undefined && selected.tasks(task) && watch.latestExecution(task.id)?.id === executionId;
    };
    if (options.follow !== true) {
      for (const service of watch.services.values()) {
        const url = service.status.logUrl;
        if (!selected.services(service) || url === undefined || url === '') continue;
        await printLogOnce(client, { kind: 'service', id: service.id, name: service.metadata.reference ?? service.id }, url, tail, new SectionCompactor(() => false), print);
      }
      for (const task of watch.tasks.values()) {
        const execution = watch.latestExecution(task.id);
        const url = execution?.status.logUrl;
        if (!selected.tasks(task) || execution === undefined || url === undefined || url === '') continue;
        await printLogOnce(client, { kind: 'execution', id: execution.id, name: task.metadata.reference ?? task.id, taskId: task.id }, url, tail, new SectionCompactor(shownHere), print);
      }
      return;
    }
    const latest = new Set([...watch.tasks.values()].flatMap((task) => watch.latestExecution(task.id)?.id ?? []));
    const initial: InitialOutput = tail === undefined ? 'all' : { tail };
    const outputs = new OutputFollower(watch, {
      includeService: selected.services,
      includeExecution: (execution) => {
        const task = watch.tasks.get(execution.metadata.taskId);
        return task !== undefined && selected.tasks(task);
      },
      // Of the executions there are now, only each task's latest; later ones all.
      initial: (source) => (source.kind === 'execution' && !latest.has(source.id) ? 'new' : initial),
      markEarlier: options.timestamps === true,
      compact: true,
      onItem: print,
    }).start();
    const interrupted = new Promise<'interrupted'>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve('interrupted'));
    });
    const end = await Promise.race([watch.ended, interrupted]);
    outputs.stop();
    if (end === 'stopped' || end === 'vanished') {
      const { line, code } = describeEnd(end, client.stateDir);
      process.stderr.write(`${line}\n`);
      process.exitCode = code;
    }
  } finally {
    watch.close();
  }
}
