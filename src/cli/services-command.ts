import { Command } from 'commander';
import type { Service } from '../domain/schema.js';
import { connect, CliError, type ApiClient } from '../client/api-client.js';
import { listAll, listServicesById } from '../client/list-all.js';
import { findService } from '../client/lookups.js';
import { ResourceWatch } from '../client/resource-watch.js';
import { bodyLines } from '../client/line-decoder.js';
import { LogItemParser, sectionHeader } from '../client/log-items.js';
import { oneLineCommand } from './daemon-facts.js';
import { summarizeFailure } from './failure-reason.js';
import { serviceSettled, waitSettled } from './settle-wait.js';
import { formatTable, shortEnum, terminalWidth } from './table.js';
import { printJson } from './output.js';
import { resolveStateDir } from '../app/state-dir.js';
import { stateDirOption, type StateDirOptions } from './options.js';

/**
 * Copies a log stream to stdout: a service's as its command wrote it; an execution's (`sections`)
 * with its steps' framing turned into headers (`── build (succeeded, 1.2 s)`).
 */
export async function printLog(client: ApiClient, url: string, options: { follow?: boolean; tail?: string; sections?: boolean }): Promise<void> {
  const query: Record<string, string> = { follow: options.follow === true ? 'true' : 'false' };
  if (options.tail !== undefined) query.tail = options.tail;
  const response = await client.fetchLog(url, query);
  if (options.sections !== true) {
    for await (const chunk of response.body ?? []) process.stdout.write(chunk as Uint8Array);
    return;
  }
  const parser = new LogItemParser();
  for await (const line of bodyLines(response.body as AsyncIterable<Uint8Array>)) {
    const item = parser.parse(line);
    process.stdout.write(`${item.kind === 'line' ? item.text : sectionHeader(item)}\n`);
  }
}

/**
 * `tend services restart NAME` and `tend restart NAME…`: each service stopped by the stop rules,
 * started in a new session, and waited for until that session is RUNNING (or failed); exit 1 if
 * one is not running.
 */
export async function restartServices(references: readonly string[], options: StateDirOptions & { json?: boolean }): Promise<void> {
  const client = connect(resolveStateDir(options));
  const found = await Promise.all(references.map((reference) => findService(client, reference)));
  const watch = await ResourceWatch.start(client);
  try {
    const targets = { serviceIds: found.map((service) => service.id), executionIds: [] };
    await stopMany(client, targets.serviceIds);
    await watch.refreshServices(targets.serviceIds);
    await waitSettled(client, watch, targets);
    for (const service of found) {
      await client.call('StartService', { id: service.id });
      await watch.refresh('service', service.id);
    }
    const { services } = await waitSettled(client, watch, targets);
    if (services.length < found.length) throw new CliError('A service was deleted while it restarted: `tend ps` shows what there is');
    if (options.json === true) printJson(services.length === 1 ? services[0] : services);
    for (const service of services) {
      const failure = service.status.phase === 'SERVICE_PHASE_FAILED' ? summarizeFailure(service.status.failureMessage) : null;
      if (options.json !== true) process.stdout.write(`Restarted ${service.metadata.reference}: ${shortEnum(service.status.phase, 'SERVICE_PHASE_')}${failure === null ? '' : `: ${failure.line}`}\n`);
      if (service.status.phase !== 'SERVICE_PHASE_RUNNING') process.exitCode = 1;
    }
  } finally {
    watch.close();
  }
}

/**
 * The services of `ids` (or all) told to stop in one call; a daemon of an older tend, which has no
 * StopServices, gets a StopService for each. Returns their ids.
 */
async function stopMany(client: ApiClient, ids: readonly string[] | 'all'): Promise<string[]> {
  const request = ids === 'all' ? { all: true } : { serviceIds: ids };
  try {
    return (await client.call<{ serviceIds: string[] }>('StopServices', request, 'tend.v1.DaemonService')).serviceIds;
  } catch (error) {
    if (!(error instanceof CliError) || error.code !== 'unimplemented') throw error;
  }
  const all = ids === 'all' ? (await listAll<Service>(client.call, 'ListServices', 'services')).map((service) => service.id) : ids;
  for (const id of all) await client.call('StopService', { id });
  return [...all];
}

/**
 * `tend stop [NAME…]`: the named services, or every service when none is named, stopped by the
 * stop rules in one call (they stop side by side), and waited for until each is down; the daemon
 * goes on running (`tend down` ends it too). Exit 1 if one ended FAILED.
 */
export async function stopServices(references: readonly string[], options: StateDirOptions & { json?: boolean }): Promise<void> {
  const client = connect(resolveStateDir(options));
  const found = await Promise.all(references.map((reference) => findService(client, reference)));
  // Stopped before the watch lists them: what it lists is already wanted stopped.
  const serviceIds = await stopMany(client, found.length === 0 ? 'all' : found.map((service) => service.id));
  // Services that honour SIGTERM are mostly down once the answer is read: one list tells, with no
  // event stream to follow.
  const listed = await listServicesById<Service>(client.call, serviceIds);
  if (listed.every(serviceSettled)) return reportStopped(listed, options);
  const watch = await ResourceWatch.start(client);
  try {
    reportStopped((await waitSettled(client, watch, { serviceIds, executionIds: [] })).services, options);
  } finally {
    watch.close();
  }
}

function reportStopped(services: readonly Service[], options: { json?: boolean }): void {
  if (options.json === true) return printJson(services);
  if (services.length === 0) process.stdout.write('No service to stop\n');
  for (const service of services) {
    const failure = service.status.phase === 'SERVICE_PHASE_FAILED' ? summarizeFailure(service.status.failureMessage) : null;
    process.stdout.write(`Stopped ${service.metadata.reference}${failure === null ? '' : `: FAILED: ${failure.line}`}\n`);
    if (failure !== null) process.exitCode = 1;
  }
}

export function servicesCommand(): Command {
  const services = new Command('services').description('list, start, stop services and read their logs');

  stateDirOption(services.command('list').description('list the services and their phases'))
    .option('--json', 'print the services as JSON')
    .action(async (options: StateDirOptions & { json?: boolean }) => {
      const client = connect(resolveStateDir(options));
      const list = await listAll<Service>(client.call, 'ListServices', 'services');
      if (options.json === true) return printJson(list);
      const rows = list.map((service) => [
        service.metadata.reference ?? '',
        shortEnum(service.status.phase, 'SERVICE_PHASE_'),
        shortEnum(service.spec.desiredPhase, 'SERVICE_PHASE_'),
        oneLineCommand(service.spec.commands?.start ?? ''),
        summarizeFailure(service.status.phase === 'SERVICE_PHASE_FAILED' ? service.status.failureMessage : undefined)?.line ?? '',
      ]);
      process.stdout.write(`${formatTable(['SERVICE', 'PHASE', 'WANTED', 'COMMAND', 'FAILURE'], rows, { maxWidth: terminalWidth(), shrink: 3 })}\n`);
    });

  for (const [name, method, verb] of [
    ['start', 'StartService', 'Starting'],
    ['stop', 'StopService', 'Stopping'],
  ] as const) {
    stateDirOption(services.command(`${name} <reference>`).description(`${name} a service`))
      .option('--json', 'print the service as JSON')
      .action(async (reference: string, options: StateDirOptions & { json?: boolean }) => {
        const client = connect(resolveStateDir(options));
        const service = await findService(client, reference);
        await client.call(method, { id: service.id });
        if (options.json === true) return printJson((await client.call<{ service: Service }>('GetService', { id: service.id })).service);
        process.stdout.write(`${verb} ${reference}\n`);
      });
  }

  stateDirOption(services.command('restart <reference>').description('stop a service by the stop rules, start it in a new session, and wait until it is running (or failed)'))
    .option('--json', 'print the service as JSON')
    .action(async (reference: string, options: StateDirOptions & { json?: boolean }) => restartServices([reference], options));

  stateDirOption(services.command('logs <reference>').description("print a service's output"))
    .option('-f, --follow', 'keep printing while the service runs')
    .option('-n, --tail <lines>', 'only the last N lines')
    .action(async (reference: string, options: StateDirOptions & { follow?: boolean; tail?: string }) => {
      const client = connect(resolveStateDir(options));
      const service = await findService(client, reference);
      const url = service.status.logUrl;
      if (url === undefined || url === '') {
        const failure = service.status.failureMessage;
        throw new CliError(failure !== undefined && failure !== '' ? `Service "${reference}" has no log: it could not start: ${failure}` : `Service "${reference}" has not run yet: it has no log`);
      }
      await printLog(client, url, options);
    });

  return services;
}
