/**
 * The foreground of `tend up`, like `docker compose up`: phase changes, what a STARTING service
 * waits for, and everyone's output prefixed by name, until Ctrl-C stops everything. Attached to a
 * daemon that was already running, it shows new output only: a service's current log from its
 * end on, a running execution's log past what it held when `tend up` attached.
 */
import type { Service, TaskExecution } from '../domain/schema.js';
import type { ApiClient } from '../client/api-client.js';
import { stopDaemon } from './daemon-process.js';
import { describeWait, getStatus, waitKey } from './status-command.js';
import { shortEnum } from './table.js';

const POLL_MS = 200;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export interface Followed {
  readonly serviceIds: readonly string[];
  readonly executionIds: readonly string[];
}

/** The key of a log's part before its first section marker (a one-step execution, a service). */
const UNSECTIONED = '';
const SECTION_CREATE = /^\[section-create\] (\{.*\})$/;

/** How many complete lines each section of a log holds now (a service's log is one section). */
async function linesSoFar(client: ApiClient, url: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const response = await client.fetchLog(url, { follow: 'false' }).catch(() => undefined);
  if (response === undefined) return counts;
  const lines = (await response.text()).split('\n');
  lines.pop();
  let section = UNSECTIONED;
  for (const line of lines) {
    const create = SECTION_CREATE.exec(line);
    if (create !== null) {
      section = (JSON.parse(create[1]!) as { id: string }).id;
      continue;
    }
    if (!line.startsWith('[section-end] ')) counts.set(section, (counts.get(section) ?? 0) + 1);
  }
  return counts;
}

export async function followUp(client: ApiClient, followed: Followed, names: Map<string, string>, options: { attached: boolean }): Promise<void> {
  const color = process.stdout.isTTY === true;
  const palette = [36, 33, 32, 35, 34, 31];
  const colorOf = new Map<string, number>();
  const prefix = (name: string): string => {
    if (!colorOf.has(name)) colorOf.set(name, palette[colorOf.size % palette.length]!);
    const label = `${name.padEnd(12)} | `;
    return color ? `\u001b[${colorOf.get(name)}m${label}\u001b[0m` : label;
  };
  const seen = new Set<string>();
  /** Streams a log; `skip` holds how many lines of each section were there before (attached). */
  const follow = (url: string, name: string, query: Record<string, string>, skip: Map<string, number> = new Map()): void => {
    void (async () => {
      const response = await client.fetchLog(url, { follow: 'true', ...query }).catch(() => undefined);
      if (response?.body == null) return;
      let section = name;
      let left = skip.get(UNSECTIONED) ?? 0;
      let pending = '';
      const print = (line: string): void => {
        const create = SECTION_CREATE.exec(line);
        if (create !== null) {
          const { id, title } = JSON.parse(create[1]!) as { id: string; title: string };
          section = title;
          left = skip.get(id) ?? 0;
          return;
        }
        if (line.startsWith('[section-end] ')) return;
        if (left > 0) {
          left -= 1;
          return;
        }
        process.stdout.write(`${prefix(section)}${line}\n`);
      };
      for await (const chunk of response.body) {
        const lines = (pending + Buffer.from(chunk as Uint8Array).toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) print(line);
      }
      if (pending !== '') print(pending);
    })();
  };

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('tend: stopping everything (Ctrl-C again does not hurry it: the stop rules apply)\n');
    void stopDaemon(client.info).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const phases = new Map<string, string>();
  const waits = new Map<string, string>();
  let first = true;
  while (!stopping) {
    let starting = false;
    for (const id of followed.serviceIds) {
      const service = (await client.call<{ service: Service }>('GetService', { id }).catch(() => undefined))?.service;
      if (service === undefined) continue;
      const name = service.metadata.reference ?? id;
      const phase = shortEnum(service.status.phase, 'SERVICE_PHASE_');
      if (service.status.phase === 'SERVICE_PHASE_STARTING') starting = true;
      if (phases.get(id) !== phase) {
        phases.set(id, phase);
        const why = service.status.phase === 'SERVICE_PHASE_FAILED' ? `: ${service.status.failureMessage?.split('\n')[0] ?? ''}` : '';
        process.stdout.write(`${prefix('tend')}service ${name}: ${phase}${why}\n`);
      }
      const url = service.status.logUrl;
      if (url !== undefined && url !== '' && !seen.has(url)) {
        seen.add(url);
        // The session that ran before `tend up` attached: from now on only.
        follow(url, name, options.attached && first ? { tail: '0' } : {});
      }
    }
    for (const id of followed.executionIds) {
      const execution = (await client.call<{ taskExecution: TaskExecution }>('GetTaskExecution', { id }).catch(() => undefined))?.taskExecution;
      if (execution === undefined) continue;
      const name = names.get(execution.metadata.taskId) ?? execution.metadata.taskId;
      const phase = shortEnum(execution.status.phase, 'TASK_EXECUTION_PHASE_');
      if (phases.get(id) !== phase) {
        phases.set(id, phase);
        const why = execution.status.failureMessage !== undefined ? `: ${execution.status.failureMessage.split('\n')[0]}` : '';
        process.stdout.write(`${prefix('tend')}task ${name}: ${phase}${why}\n`);
      }
      const url = execution.status.logUrl;
      if (url === undefined || url === '' || seen.has(url)) continue;
      seen.add(url);
      if (!(options.attached && first)) follow(url, name, {});
      else if (!['succeeded', 'failed', 'stopped'].includes(phase)) follow(url, name, {}, await linesSoFar(client, url));
    }
    if (starting) {
      for (const entry of (await getStatus(client).catch(() => undefined))?.readiness ?? []) {
        const key = waitKey(entry);
        if (waits.get(entry.serviceId) === key) continue;
        waits.set(entry.serviceId, key);
        process.stdout.write(`${prefix('tend')}service ${entry.service}: ${describeWait(entry)}\n`);
      }
    }
    first = false;
    await sleep(POLL_MS);
  }
}
