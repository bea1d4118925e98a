import { Command } from 'commander';
import type { Service } from '../domain/schema.js';
import { connect, CliError, type ApiClient } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { findService } from '../client/lookups.js';
import { formatTable, shortEnum } from './table.js';
import { printJson } from './output.js';
import { resolveStateDir } from '../app/state-dir.js';
import { stateDirOption, type StateDirOptions } from './options.js';

/** Copies a log stream to stdout. */
export async function printLog(client: ApiClient, url: string, options: { follow?: boolean; tail?: string }): Promise<void> {
  const query: Record<string, string> = { follow: options.follow === true ? 'true' : 'false' };
  if (options.tail !== undefined) query.tail = options.tail;
  const response = await client.fetchLog(url, query);
  for await (const chunk of response.body ?? []) process.stdout.write(chunk as Uint8Array);
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
        service.spec.commands?.start ?? '',
        (service.status.failureMessage ?? '').split('\n')[0] ?? '',
      ]);
      process.stdout.write(`${formatTable(['SERVICE', 'PHASE', 'WANTED', 'COMMAND', 'FAILURE'], rows)}\n`);
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
