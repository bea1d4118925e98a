/**
 * The HTTP surface: Connect unary JSON on `POST /<service>/<Method>` (the automation service, the
 * event stream, the logs token, tend's own DaemonService) and the log streams behind
 * `status.logUrl`. Every request carries the bearer token (a `front`, the dashboard, answers its
 * own paths before that). Connect's rules for the envelope of a call: POST only (405 otherwise),
 * a content type the method takes (415 otherwise), a gzipped body is inflated, a method of a
 * known service that tend does not serve is `unimplemented`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../domain/errors.js';
import type { LogSource } from '../engine/log-source.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Automations } from '../engine/automations.js';
import { FireTriggerRequest, LogsTokenRequest, SERVED_METHODS, WatchEventsRequest, type ServedService, type Subject, type TriggerName } from '../domain/schema.js';
import { checkEnvironment } from '../engine/requests.js';
import { authenticate, LogsTokens, type Caller } from './auth.js';
import { ConnectionGuard, DEFAULT_SERVER_LIMITS, httpServerOptions, type ServerLimits } from './connection-guard.js';
import { EventStreams, readRequestEnvelope, refuseStream, streamEvents } from './watch-events.js';
import type { ResourceEvents } from '../engine/resource-events.js';
import { automationHandlers, isReadMethod, resolveHandler } from './automation-service.js';
import { parseBody, sendError, sendJson } from './connect.js';
import { followExecutionLog, followLog } from './log-stream.js';
import { maskStream } from './mask-stream.js';
import type { DaemonMethod } from './port-methods.js';
import { checkContentType, decodeBody, MAX_BODY_BYTES, readBody, STREAM_TYPES } from './request-body.js';
import { withQueryPagination } from './query-pagination.js';

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

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

const LOG_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toApiError(error: unknown, log: Logger): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError('resource_exhausted', `Request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  log.error({ err: error }, 'Request failed unexpectedly');
  return new ApiError('internal', 'Internal error: the daemon log has the details');
}

function unserved(service: string, method: string): ApiError {
  return new ApiError('unimplemented', `Method "${method}" of ${service} is not implemented by tend`);
}

type Route = FastifyRequest<{ Params: { method: string }; Querystring: Record<string, string | undefined> }>;

export function buildServer(options: ServerOptions): FastifyInstance {
  const { token, services, tasks, executions, automations, log } = options;
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const respond = async (reply: FastifyReply, body: unknown, changed = false): Promise<FastifyReply> => {
    if (changed) await options.launched?.();
    await options.committed();
    return sendJson(reply, body);
  };
  const app = Fastify({
    loggerInstance: log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    http: httpServerOptions(limits),
    requestTimeout: httpServerOptions(limits).requestTimeout,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // No inactivity timeout: event streams and followed logs may be silent for long.
    connectionTimeout: 0,
    // Event streams and followed logs never end by themselves: close them when the daemon stops.
    forceCloseConnections: true,
  });
  const guard = new ConnectionGuard(app.server, limits);
  const streams = new EventStreams();
  app.addHook('preClose', (done) => {
    streams.endAll();
    done();
  });
  const logsTokens = new LogsTokens();
  const handlers = automationHandlers(services, tasks, executions, automations, options.environmentId);
  const findLog = (logId: string): LogSource | undefined =>
    LOG_ID.test(logId) ? (services.logSource(logId) ?? executions.logSource(logId)) : undefined;

  // Bodies are read by us (request-body.ts) so that every problem becomes a Connect error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const rawBody = (request: FastifyRequest): Buffer | undefined => (Buffer.isBuffer(request.body) ? request.body : undefined);
  const body = (request: FastifyRequest): unknown => readBody(request.headers, rawBody(request));

  const front = options.front;
  if (front !== undefined) {
    // Registered before the token check: what the front answers never reaches the API's hooks.
    app.addHook('onRequest', async (request, reply) => {
      if (!front.handles(request.raw)) return;
      reply.hijack();
      await front.handle(request.raw, reply.raw);
      return reply;
    });
  }
  app.decorateRequest('caller', null as unknown as Caller);
  app.addHook('onRequest', async (request) => {
    const scope = authenticate(request.headers.authorization, token, logsTokens, options.runnerToken);
    const subject = scope === 'full' ? options.subjects.token : scope === 'runner' ? (options.subjects.runnerToken ?? options.subjects.token) : {};
    request.caller = { scope, subject };
    guard.authenticated(request.raw.socket);
    if (scope === 'logs' && !(request.method === 'GET' && request.url.startsWith('/logs/'))) {
      throw new ApiError('permission_denied', 'This token can only read logs (it came from CreateEnvironmentLogsToken): use the API token');
    }
  });

  app.setErrorHandler((error, _request, reply) => sendError(reply, toApiError(error, log)));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ApiError('not_found', `No such endpoint: ${request.method} ${request.url.split('?')[0]}`)),
  );

  // Every method of these services is a POST (none is marked idempotent): anything else is 405.
  for (const service of Object.keys(SERVED_METHODS) as ServedService[]) {
    app.route<{ Params: { method: string } }>({
      method: ['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: `/${service}/:method`,
      handler: (request) => {
        throw new ApiError('invalid_argument', `Method ${request.method} is not allowed: call ${service}/${request.params.method} with POST`, {
          httpStatus: 405,
          headers: { allow: 'POST' },
        });
      },
    });
  }

  app.post('/gitpod.v1.EnvironmentAutomationService/:method', async (request: Route, reply) => {
    const { method } = request.params;
    const handler = resolveHandler(handlers, method);
    const decoded = body(request);
    const withQuery = /^List/.test(method) ? withQueryPagination(decoded, request.query) : decoded;
    if (options.forward !== undefined && !isReadMethod(method)) {
      return sendJson(reply, await options.forward('gitpod.v1.EnvironmentAutomationService', method, withQuery));
    }
    return respond(reply, await handler(withQuery, request.caller), !isReadMethod(method));
  });

  app.post('/gitpod.v1.EventService/:method', async (request: Route, reply) => {
    if (request.params.method !== 'WatchEvents') throw unserved('gitpod.v1.EventService', request.params.method);
    const type = checkContentType(request.headers, STREAM_TYPES);
    const connect = type === 'application/connect+json';
    try {
      const decoded = connect
        ? readRequestEnvelope(decodeBody(request.headers, rawBody(request) ?? Buffer.alloc(0)), request.headers['connect-content-encoding'] as string | undefined)
        : readBody(request.headers, rawBody(request), STREAM_TYPES);
      const watch = parseBody(WatchEventsRequest, decoded);
      if (watch.organization === true && (watch.environmentId ?? '') !== '') {
        throw new ApiError('invalid_argument', 'Invalid request: give either "environmentId" or "organization" (the scope is one of them)');
      }
      checkEnvironment(watch.environmentId, options.environmentId);
    } catch (error) {
      if (!connect) throw error;
      reply.hijack();
      return refuseStream(reply.raw, toApiError(error, log));
    }
    reply.hijack();
    streamEvents(reply.raw, request.raw.socket, options.events, log, connect ? 'connect' : 'jsonl', streams);
  });

  app.post('/gitpod.v1.EnvironmentService/:method', async (request: Route, reply) => {
    if (request.params.method !== 'CreateEnvironmentLogsToken') throw unserved('gitpod.v1.EnvironmentService', request.params.method);
    checkEnvironment(parseBody(LogsTokenRequest, body(request)).environmentId, options.environmentId);
    return respond(reply, { accessToken: logsTokens.create().accessToken });
  });

  // tend's own methods, in the same Connect style: the daemon's status and firing triggers.
  app.post('/tend.v1.DaemonService/:method', async (request: Route, reply) => {
    const decoded = body(request);
    switch (request.params.method) {
      case 'GetStatus':
        return respond(reply, await options.status());
      case 'FireTrigger': {
        if (options.forward !== undefined) return sendJson(reply, await options.forward('tend.v1.DaemonService', 'FireTrigger', decoded));
        const { triggers } = parseBody(FireTriggerRequest, decoded);
        return respond(reply, automations.fire(triggers as TriggerName[]), true);
      }
      default: {
        const methods = options.daemonMethods ?? {};
        if (Object.hasOwn(methods, request.params.method)) return respond(reply, await methods[request.params.method]!(decoded));
        throw new ApiError('unimplemented', `Method "${request.params.method}" does not exist on tend.v1.DaemonService`);
      }
    }
  });

  app.get<{ Params: { logId: string }; Querystring: { follow?: string; tail?: string } }>(
    '/logs/:logId',
    async (request, reply) => {
      const { logId } = request.params;
      const source = findLog(logId);
      if (source === undefined) throw new ApiError('not_found', `Log "${logId}" not found`);
      const tail = request.query.tail;
      const tailLines = tail === undefined ? undefined : Number(tail);
      if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) {
        throw new ApiError('invalid_argument', `Invalid "tail" "${tail}": give a whole number of lines`);
      }
      const follow = request.query.follow !== 'false' && request.query.follow !== '0';
      const chunks =
        source.kind === 'file'
          ? followLog(source.path, { follow, tailLines, isLive: source.isLive })
          : followExecutionLog(source, { follow });
      // Commands get the API token (GITPOD_API_KEY): a log never gives it to a reader, who may hold
      // only a logs token.
      const stream = Readable.from(maskStream(chunks, () => [...source.secrets(), token]));
      // The answer starts at once, before any output: a follower knows the log is there.
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      reply.raw.flushHeaders();
      pipeline(stream, reply.raw).catch(() => {
        // the reader went away
      });
    },
  );

  return app;
}
