/**
 * The HTTP surface, on plain node:http with tend's own routing (fastify cost 7 MiB and tens of
 * milliseconds of start-up for what these few routes need): Connect unary JSON on `POST /<service>/<Method>` (the automation service, the
 * event stream, the logs token, tend's own DaemonService) and the log streams behind
 * `status.logUrl`. Every request carries the bearer token (a `front`, the dashboard, answers its
 * own paths before that). Connect's rules for the envelope of a call: POST only (405 otherwise),
 * a content type the method takes (415 otherwise), a gzipped body is inflated, a method of a
 * known service that tend does not serve is `unimplemented`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../domain/logger.js';
import { ApiError } from '../domain/errors.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Automations } from '../engine/automations.js';
import type { TriggerName } from '../domain/enums.js';
import { SERVED_METHODS, type ServedService } from '../domain/methods.js';
import type { Subject } from '../domain/schema.js';
import { checkEnvironment } from '../engine/requests.js';
import { authenticate, LogsTokens, type Caller } from './auth.js';
import { ConnectionGuard, DEFAULT_SERVER_LIMITS, httpServerOptions, type ServerLimits } from './connection-guard.js';
import { EventStreams, readRequestEnvelope, refuseStream, streamEvents } from './watch-events.js';
import type { ResourceEvents } from '../engine/resource-events.js';
import { automationHandlers, isReadMethod, resolveHandler } from './automation-service.js';
import { sendError, sendJson } from './connect.js';
import { parseRequest } from './parse-request.js';
import { answerJson } from './json-answer.js';
import { logRoute } from './log-route.js';
import type { DaemonMethod } from './port-methods.js';
import { checkContentType, collectBody, decodeBody, readBody, STREAM_TYPES } from './request-body.js';
import { withQueryPagination } from './query-pagination.js';
import { httpDate } from '../domain/utc-time.js';

/** This second's Date header, written by tend (Node's own calls toUTCString: domain/utc-time.ts). */
let dateSecond = Number.NaN;
let dateText = '';
function dateHeader(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = httpDate(now);
  }
  return dateText;
}

export interface ServerOptions {
  readonly token: string;
  /** A serve-only daemon's runner token: it may also report statuses. */
  readonly runnerToken?: string;
  /** Who the tokens stand for: the creator of what their calls make. */
  readonly subjects: { readonly token: Subject; readonly runnerToken?: Subject };
  /**
   * Runner mode: changes (every method but Get* and List*, and FireTrigger) go to the control
   * plane this daemon follows, whose answer is the answer; reads, logs and events are served here.
   */
  readonly forward?: (service: string, method: string, body: unknown) => Promise<unknown>;
  readonly services: ServiceEngine;
  readonly tasks: TaskEngine;
  readonly executions: ExecutionEngine;
  readonly automations: Automations;
  readonly events: ResourceEvents;
  readonly environmentId: string;
  /** What `tend status` shows. */
  readonly status: () => unknown;
  /** More methods of tend.v1.DaemonService, by name (the ports of `gitpod environment port`). */
  readonly daemonMethods?: Readonly<Record<string, DaemonMethod>>;
  /** Resolves once every write so far is on disk: a response acknowledges only durable writes. */
  readonly committed: () => Promise<void>;
  /** Resolves once every command start begun so far has its process: an answer to a change shows its effect. */
  readonly launched?: () => Promise<void>;
  readonly log: Logger;
  /** Timeouts and the connection cap; default DEFAULT_SERVER_LIMITS. */
  readonly limits?: Partial<ServerLimits>;
  /** Answers some paths itself, ahead of the API and its token (the dashboard, `app/daemon.ts`). */
  readonly front?: Front;
}

/** A handler in front of the API over plain node:http: it takes the requests it `handles`. */
export interface Front {
  handles(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

function toApiError(error: unknown, log: Logger): ApiError {
  if (error instanceof ApiError) return error;
  log.error({ err: error }, 'Request failed unexpectedly');
  return new ApiError('internal', 'Internal error: the daemon log has the details');
}

function unserved(service: string, method: string): ApiError {
  return new ApiError('unimplemented', `Method "${method}" of ${service} is not implemented by tend`);
}

/** The daemon's HTTP server. */
export interface ApiServer {
  readonly server: Server;
  listen(address: { host: string; port: number }): Promise<void>;
  /** Ends every event stream, then closes every connection (followed logs included). */
  close(): Promise<void>;
}

/** One request, as the handlers see it. */
interface Call {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly caller: Caller;
  /** The method segment of `/<service>/<method>`. */
  readonly method: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

/** Methods that are not POST on a service path are refused with 405; any other is an unknown endpoint. */
const OTHER_METHODS = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const SERVICES = new Set<string>(Object.keys(SERVED_METHODS));

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function buildServer(options: ServerOptions): ApiServer {
  const { token, services, tasks, executions, automations, log } = options;
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const apiLog = log.child({ component: 'api' });
  const respond = async (call: Call, body: unknown, changed = false): Promise<void> => {
    if (changed) await options.launched?.();
    await options.committed();
    sendJson(call.response, answerJson(body));
  };
  const streams = new EventStreams();
  const logsTokens = new LogsTokens();
  const handlers = automationHandlers(services, tasks, executions, automations, options.environmentId);
  const body = (call: Call): unknown => readBody(call.request.headers, call.body);
  const query = (call: Call): Record<string, string> => Object.fromEntries(call.query);

  const automationService = async (call: Call): Promise<void> => {
    const { method } = call;
    const handler = resolveHandler(handlers, method);
    const decoded = body(call);
    const withQuery = /^List/.test(method) ? withQueryPagination(decoded, query(call)) : decoded;
    if (options.forward !== undefined && !isReadMethod(method)) {
      return sendJson(call.response, answerJson(await options.forward('gitpod.v1.EnvironmentAutomationService', method, withQuery)));
    }
    return respond(call, await handler(withQuery, call.caller), !isReadMethod(method));
  };

  const eventService = async (call: Call): Promise<void> => {
    if (call.method !== 'WatchEvents') throw unserved('gitpod.v1.EventService', call.method);
    const { headers } = call.request;
    const type = checkContentType(headers, STREAM_TYPES);
    const connect = type === 'application/connect+json';
    try {
      const decoded = connect
        ? readRequestEnvelope(decodeBody(headers, call.body), headers['connect-content-encoding'] as string | undefined)
        : readBody(headers, call.body, STREAM_TYPES);
      const watch = await parseRequest('WatchEventsRequest', decoded);
      if (watch.organization === true && (watch.environmentId ?? '') !== '') {
        throw new ApiError('invalid_argument', 'Invalid request: give either "environmentId" or "organization" (the scope is one of them)');
      }
      checkEnvironment(watch.environmentId, options.environmentId);
    } catch (error) {
      if (!connect) throw error;
      return refuseStream(call.response, toApiError(error, apiLog));
    }
    streamEvents(call.response, call.request.socket, options.events, apiLog, connect ? 'connect' : 'jsonl', streams);
  };

  const environmentService = async (call: Call): Promise<void> => {
    if (call.method !== 'CreateEnvironmentLogsToken') throw unserved('gitpod.v1.EnvironmentService', call.method);
    checkEnvironment((await parseRequest('LogsTokenRequest', body(call))).environmentId, options.environmentId);
    return respond(call, { accessToken: logsTokens.create().accessToken });
  };

  // tend's own methods, in the same Connect style: the daemon's status, firing triggers, stopping many services.
  const daemonService = async (call: Call): Promise<void> => {
    const decoded = body(call);
    switch (call.method) {
      case 'GetStatus':
        return respond(call, await options.status());
      case 'FireTrigger': {
        if (options.forward !== undefined) return sendJson(call.response, answerJson(await options.forward('tend.v1.DaemonService', 'FireTrigger', decoded)));
        const { triggers } = await parseRequest('FireTriggerRequest', decoded);
        return respond(call, automations.fire(triggers as TriggerName[]), true);
      }
      case 'StopServices': {
        if (options.forward !== undefined) return sendJson(call.response, answerJson(await options.forward('tend.v1.DaemonService', 'StopServices', decoded)));
        const request = await parseRequest('StopServicesRequest', decoded);
        if ((request.all === true) === (request.serviceIds !== undefined)) {
          throw new ApiError('invalid_argument', 'Invalid request: give either "serviceIds" (the services to stop) or "all": true (every service)');
        }
        return respond(call, { serviceIds: services.stopMany(request.all === true ? undefined : request.serviceIds) }, true);
      }
      default: {
        const methods = options.daemonMethods ?? {};
        if (Object.hasOwn(methods, call.method)) return respond(call, await methods[call.method]!(decoded));
        throw new ApiError('unimplemented', `Method "${call.method}" does not exist on tend.v1.DaemonService`);
      }
    }
  };

  const routes: Record<ServedService, (call: Call) => Promise<void>> = {
    'gitpod.v1.EnvironmentAutomationService': automationService,
    'gitpod.v1.EventService': eventService,
    'gitpod.v1.EnvironmentService': environmentService,
    'tend.v1.DaemonService': daemonService,
  };

  const serveLog = logRoute({
    find: (logId) => services.logSource(logId) ?? executions.logSource(logId),
    events: options.events,
    token,
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const search = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
    const scope = authenticate(request.headers.authorization, token, logsTokens, options.runnerToken);
    const subject = scope === 'full' ? options.subjects.token : scope === 'runner' ? (options.subjects.runnerToken ?? options.subjects.token) : {};
    const caller: Caller = { scope, subject };
    guard.authenticated(request.socket);
    const isGet = request.method === 'GET' || request.method === 'HEAD';
    if (scope === 'logs' && !(request.method === 'GET' && url.startsWith('/logs/'))) {
      throw new ApiError('permission_denied', 'This token can only read logs (it came from CreateEnvironmentLogsToken): use the API token');
    }
    const segments = path.split('/');
    // ['', 'logs', id] or ['', service, method]
    if (segments.length === 3 && segments[1] === 'logs' && segments[2] !== '' && isGet) {
      const logId = decodeSegment(segments[2]!);
      if (logId !== undefined) return serveLog(request, response, logId, search);
    }
    const service = segments.length === 3 ? decodeSegment(segments[1]!) : undefined;
    const method = segments.length === 3 ? decodeSegment(segments[2]!) : undefined;
    if (service !== undefined && SERVICES.has(service) && method !== undefined && method !== '') {
      if (request.method === 'POST') {
        const call: Call = { request, response, caller, method, query: search, body: await collectBody(request) };
        return routes[service as ServedService](call);
      }
      if (OTHER_METHODS.has(request.method ?? '')) {
        // Every method of these services is a POST (none is marked idempotent): anything else is 405.
        throw new ApiError('invalid_argument', `Method ${request.method} is not allowed: call ${service}/${method} with POST`, {
          httpStatus: 405,
          headers: { allow: 'POST' },
        });
      }
    }
    throw new ApiError('not_found', `No such endpoint: ${request.method} ${path}`);
  };

  const front = options.front;
  const server = createServer(httpServerOptions(limits), (request, response) => {
    response.sendDate = false;
    response.setHeader('date', dateHeader());
    // What the front answers (the dashboard) never reaches the API and its token check.
    const answer = front !== undefined && front.handles(request) ? front.handle(request, response) : handle(request, response);
    answer.catch((error: unknown) => {
      if (response.headersSent) {
        apiLog.error({ err: error }, 'Request failed after its answer began');
        response.destroy();
        return;
      }
      sendError(response, toApiError(error, apiLog));
    });
  });
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // No inactivity timeout: event streams and followed logs may be silent for long.
  server.timeout = 0;
  const guard = new ConnectionGuard(server, limits);

  return {
    server,
    listen: ({ host, port }) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: async () => {
      // Event streams and followed logs never end by themselves: end them, then close the rest.
      streams.endAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
