/**
 * Resources: each service's log (`tend://logs/service/<reference>`, its current or last run) and
 * each execution's (`tend://logs/execution/<id>`), secrets masked as the daemon serves them.
 * Clients may subscribe to them (the low-level handlers: McpServer has none for subscriptions).
 */
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ApiClient } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { findService } from '../client/lookups.js';
import type { Service, TaskExecution } from '../domain/schema.js';
import { executionLogUri, FINISHED_EXECUTION_PHASES, serviceLogUri } from './answers.js';
import type { McpContext } from './context.js';
import { getExecution } from './execution-outcome.js';
import { tailLines } from './log-reading.js';
import { LogSubscriptions, type FollowedLog } from './log-subscriptions.js';
import { taskNames } from './names.js';

/** A resource holds the last this many lines of its log (read_logs reads further back). */
export const RESOURCE_LINES = 1000;
/** Executions listed as resources: the newest ones. */
const LISTED_EXECUTIONS = 20;
const MIME = 'text/plain';

const ACTIVE = ['SERVICE_PHASE_STARTING', 'SERVICE_PHASE_RUNNING', 'SERVICE_PHASE_STOPPING'];

function serviceLog(reference: string): FollowedLog {
  return {
    async locate(client) {
      const service = await findService(client, reference);
      return { url: service.status.logUrl || undefined, live: ACTIVE.includes(service.status.phase ?? ''), final: false };
    },
  };
}

function executionLog(id: string): FollowedLog {
  return {
    async locate(client) {
      const execution = await getExecution(client, id);
      const ended = FINISHED_EXECUTION_PHASES.includes(execution.status.phase) && execution.metadata.completedAt !== undefined;
      return { url: execution.status.logUrl || undefined, live: !ended, final: ended };
    },
  };
}

/** Which log a URI names; anything else is not one of tend's resources. */
function parseUri(uri: string): FollowedLog & { check(client: ApiClient): Promise<unknown> } {
  const match = /^tend:\/\/logs\/(service|execution)\/([^/]+)$/.exec(uri);
  if (match === null) {
    throw new McpError(ErrorCode.InvalidParams, `Unknown resource "${uri}": tend's are tend://logs/service/<reference> and tend://logs/execution/<id>`);
  }
  const name = decodeURIComponent(match[2]!);
  const log = match[1] === 'service' ? serviceLog(name) : executionLog(name);
  return { ...log, check: (client) => log.locate(client) };
}

async function readText(client: ApiClient, uri: URL, log: FollowedLog) {
  const { url } = await log.locate(client);
  const text = url === undefined ? '' : (await tailLines(client, url, RESOURCE_LINES)).map((line) => `${line}\n`).join('');
  return { contents: [{ uri: uri.href, mimeType: MIME, text }] };
}

export function registerLogResources(server: McpServer, context: McpContext): LogSubscriptions {
  server.registerResource(
    'service-log',
    new ResourceTemplate('tend://logs/service/{reference}', {
      list: async () => {
        const client = await context.daemon().catch(() => undefined);
        const services = client === undefined ? [] : await listAll<Service>(client.call, 'ListServices', 'services');
        return {
          resources: services.map((service) => {
            const reference = service.metadata.reference ?? service.id;
            return { uri: serviceLogUri(reference), name: `${reference} log`, mimeType: MIME };
          }),
        };
      },
    }),
    { title: 'Service log', description: `A service's output (its current or last run; the last ${RESOURCE_LINES} lines), secrets masked`, mimeType: MIME },
    async (uri, variables) => readText(await context.daemon(), uri, serviceLog(decodeURIComponent(String(variables.reference)))),
  );

  server.registerResource(
    'execution-log',
    new ResourceTemplate('tend://logs/execution/{id}', {
      list: async () => {
        const client = await context.daemon().catch(() => undefined);
        if (client === undefined) return { resources: [] };
        const { taskExecutions } = await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', { pagination: { pageSize: LISTED_EXECUTIONS } });
        const names = await taskNames(client);
        return {
          resources: (taskExecutions ?? []).map((execution) => ({
            uri: executionLogUri(execution.id),
            name: `${names.get(execution.metadata.taskId) ?? execution.metadata.taskId} execution ${execution.id} log`,
            mimeType: MIME,
          })),
        };
      },
    }),
    { title: 'Execution log', description: `A task execution's output, each step in plan order (the last ${RESOURCE_LINES} lines), secrets masked`, mimeType: MIME },
    async (uri, variables) => readText(await context.daemon(), uri, executionLog(decodeURIComponent(String(variables.id)))),
  );

  const subscriptions = new LogSubscriptions(
    () => context.runningDaemon(),
    (uri) => void server.server.sendResourceUpdated({ uri }).catch(() => {}),
    context.closed,
  );
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const log = parseUri(request.params.uri);
    // An unknown service or execution is refused now, with the CLI's message.
    await log.check(await context.daemon());
    subscriptions.subscribe(request.params.uri, log);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.unsubscribe(request.params.uri);
    return {};
  });
  return subscriptions;
}
