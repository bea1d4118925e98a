/**
 * The HTTP surface: Connect unary JSON on `POST /gitpod.v1.EnvironmentAutomationService/<Method>`
 * and the log streams behind `status.logUrl`. Every request carries the bearer token; a `front`
 * (the dashboard) answers its own paths before that.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../domain/errors.js';
import type { LogSource } from '../engine/log-source.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Automations } from '../engine/automations.js';
import { TRIGGER_NAMES, type TriggerName } from '../domain/schema.js';
import { checkEnvironment } from '../engine/requests.js';
import { z } from 'zod';
import { authenticate, LogsTokens, type Scope } from './auth.js';
import { streamEvents } from './watch-events.js';
import type { ResourceEvents } from '../engine/resource-events.js';
import { automationHandlers, isReadMethod, resolveHandler } from './automation-service.js';
import { MAX_BODY_BYTES, parseBody, parseJson, sendError, sendJson } from './connect.js';
import { followExecutionLog, followLog } from './log-stream.js';
import { maskStream } from './mask-stream.js';

export interface ServerOptions {
  readonly token: string;
  /** A serve-only daemon's runner token: it may also report statuses. */
  readonly runnerToken?: string;
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
  /** Resolves once every write so far is on disk: a response acknowledges only durable writes. */
  readonly committed: () => Promise<void>;
  readonly log: Logger;
  /** Answers some paths itself, ahead of the API and its token (the dashboard, `app/daemon.ts`). */
  readonly front?: Front;
}

/** A handler in front of the API over plain node:http: it takes the requests it `handles`. */
export interface Front {
  handles(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

const FireTriggerRequest = z.strictObject({ triggers: z.array(z.enum(TRIGGER_NAMES)).min(1) });
const WatchEventsRequest = z.strictObject({ environmentId: z.string().optional(), organization: z.boolean().optional() });
const LogsTokenRequest = z.strictObject({ environmentId: z.string().optional() });

declare module 'fastify' {
  interface FastifyRequest {
    scope: Scope;
  }
}

const LOG_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function toApiError(error: unknown, log: Logger): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError('resource_exhausted', `Request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return new ApiError('invalid_argument', 'Send the request body as JSON (Content-Type: application/json)');
  }
  log.error({ err: error }, 'Request failed unexpectedly');
  return new ApiError('internal', 'Internal error: the daemon log has the details');
}

export function buildServer(options: ServerOptions): FastifyInstance {
  const { token, services, tasks, executions, automations, log } = options;
  const respond = async (reply: FastifyReply, body: unknown): Promise<FastifyReply> => {
    await options.committed();
    return sendJson(reply, body);
  };
  const app = Fastify({
    loggerInstance: log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    // The daemon answers at once; anything slower is a stuck client.
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    // Event streams and followed logs never end by themselves: close them when the daemon stops.
    forceCloseConnections: true,
  });
  const logsTokens = new LogsTokens();
  const handlers = automationHandlers(services, tasks, executions, automations, options.environmentId);
  const findLog = (logId: string): LogSource | undefined =>
    LOG_ID.test(logId) ? (services.logSource(logId) ?? executions.logSource(logId)) : undefined;

  // Bodies are parsed by us so that malformed JSON becomes a Connect error, whatever the type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

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
  app.decorateRequest('scope', 'full');
  app.addHook('onRequest', async (request) => {
    request.scope = authenticate(request.headers.authorization, token, logsTokens, options.runnerToken);
    if (request.scope === 'logs' && !(request.method === 'GET' && request.url.startsWith('/logs/'))) {
      throw new ApiError('permission_denied', 'This token can only read logs (it came from CreateEnvironmentLogsToken): use the API token');
    }
  });

  app.setErrorHandler((error, _request, reply) => sendError(reply, toApiError(error, log)));
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ApiError('not_found', `No such endpoint: ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.post<{ Params: { method: string }; Querystring: Record<string, string | undefined> }>(
    '/gitpod.v1.EnvironmentAutomationService/:method',
    async (request, reply) => {
      const { method } = request.params;
      const handler = resolveHandler(handlers, method);
      const body = withQueryPagination(parseJson(typeof request.body === 'string' ? request.body : ''), request.query);
      if (options.forward !== undefined && !isReadMethod(method)) {
        return sendJson(reply, await options.forward('gitpod.v1.EnvironmentAutomationService', method, body));
      }
      return respond(reply, await handler(body, request.scope));
    },
  );

  app.post('/gitpod.v1.EventService/WatchEvents', async (request, reply) => {
    const body = parseBody(WatchEventsRequest, parseJson(typeof request.body === 'string' ? request.body : ''));
    checkEnvironment(body.environmentId, options.environmentId);
    reply.hijack();
    streamEvents(reply.raw, request.raw.socket, options.events, log);
  });

  app.post<{ Params: { method: string } }>('/gitpod.v1.EnvironmentService/:method', async (request, reply) => {
    const body = parseJson(typeof request.body === 'string' ? request.body : '');
    if (request.params.method !== 'CreateEnvironmentLogsToken') {
      throw new ApiError('unimplemented', `Method "${request.params.method}" of gitpod.v1.EnvironmentService is not implemented by tend`);
    }
    checkEnvironment(parseBody(LogsTokenRequest, body).environmentId, options.environmentId);
    return respond(reply, { accessToken: logsTokens.create().accessToken });
  });

  // tend's own methods, in the same Connect style: the daemon's status and firing triggers.
  app.post<{ Params: { method: string } }>('/tend.v1.DaemonService/:method', async (request, reply) => {
    const body = parseJson(typeof request.body === 'string' ? request.body : '');
    switch (request.params.method) {
      case 'GetStatus':
        return respond(reply, options.status());
      case 'FireTrigger': {
        if (options.forward !== undefined) return sendJson(reply, await options.forward('tend.v1.DaemonService', 'FireTrigger', body));
        const { triggers } = parseBody(FireTriggerRequest, body);
        return respond(reply, automations.fire(triggers as TriggerName[]));
      }
      default:
        throw new ApiError('unimplemented', `Method "${request.params.method}" does not exist on tend.v1.DaemonService`);
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
      const stream = Readable.from(maskStream(chunks, source.secrets));
      return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(stream);
    },
  );

  return app;
}

/** The official SDK sends `token` and `pageSize` of List methods as query parameters. */
function withQueryPagination(body: unknown, query: Record<string, string | undefined>): unknown {
  if (query.token === undefined && query.pageSize === undefined) return body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  const pagination = { ...(record.pagination as Record<string, unknown> | undefined) };
  if (query.token !== undefined && pagination.token === undefined) pagination.token = query.token;
  if (query.pageSize !== undefined && pagination.pageSize === undefined) {
    const size = Number(query.pageSize);
    if (!Number.isInteger(size)) {
      throw new ApiError('invalid_argument', `Invalid "pageSize" "${query.pageSize}": give a whole number`);
    }
    pagination.pageSize = size;
  }
  return { ...record, pagination };
}

