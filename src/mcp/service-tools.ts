/**
 * The service tools: `list_services`, and `start_service`, `stop_service`, `restart_service`,
 * which wait (by default) until the service is RUNNING or STOPPED and say why when it failed.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { ApiClient } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { findService } from '../client/lookups.js';
import type { Service } from '../domain/schema.js';
import { plural, reply, servicePhase, ServicePhaseName } from './answers.js';
import type { McpContext } from './context.js';
import { daemonStatus, FileProblems, fileProblems, fileProblemsText } from './daemon-status.js';
import { ANSWER_TAIL_LINES, tailLines } from './log-reading.js';
import { serviceItem, ServiceItem, serviceLine } from './service-answers.js';
import { progressOf } from './progress.js';
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, seconds, waitUntil, type Progress, type Waited } from './waiting.js';

const ServiceArgument = z.string().min(1).describe('the service: its reference (its key in automations.yaml) or its id');

const WaitArguments = {
  wait: z.boolean().default(true).describe('wait until it has got there (or failed), at most timeoutSeconds'),
  timeoutSeconds: z
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .default(DEFAULT_WAIT_SECONDS)
    .describe('how long to wait; the answer then says it is still on its way (call again to keep waiting)'),
};

const Outcome = z.enum(['RUNNING', 'STOPPED', 'FAILED', 'STILL_STARTING', 'STILL_STOPPING', 'REQUESTED']);

const ServiceActionAnswer = z.object({
  service: ServiceItem,
  outcome: Outcome.describe('where it got to; STILL_…: the wait ended first; REQUESTED: not waited for'),
  waitedSeconds: z.number(),
  failureMessage: z.string().optional().describe('the whole failure message'),
  outputTail: z.array(z.string()).optional().describe('the last lines of its log, when it failed or is not there yet'),
});

function getService(client: ApiClient, id: string): Promise<Service> {
  return client.call<{ service: Service }>('GetService', { id }).then(({ service }) => service);
}

const isActive = (service: Service): boolean =>
  ['SERVICE_PHASE_STARTING', 'SERVICE_PHASE_RUNNING', 'SERVICE_PHASE_STOPPING'].includes(service.status.phase ?? '');

/** The run that was asked for (its session) has started, failed or ended; or it is no longer wanted. */
const startSettled = (service: Service): boolean =>
  service.spec.desiredPhase !== 'SERVICE_PHASE_RUNNING' ||
  (service.status.session === service.spec.session && service.status.phase !== 'SERVICE_PHASE_STARTING' && service.status.phase !== 'SERVICE_PHASE_STOPPING');

const stopSettled = (service: Service): boolean => service.spec.desiredPhase === 'SERVICE_PHASE_RUNNING' || !isActive(service);

type Outcome = z.infer<typeof Outcome>;

function outcomeOf(waited: Waited<Service>, goal: 'RUNNING' | 'STOPPED'): Outcome {
  if (!waited.done) return goal === 'RUNNING' ? 'STILL_STARTING' : 'STILL_STOPPING';
  const phase = waited.value.status.phase;
  return phase === 'SERVICE_PHASE_RUNNING' ? 'RUNNING' : phase === 'SERVICE_PHASE_FAILED' ? 'FAILED' : 'STOPPED';
}

/** What happened, and what the agent can do next. */
function headline(service: Service, item: ServiceItem, outcome: Outcome, goal: 'RUNNING' | 'STOPPED', waitedMs: number): string {
  const name = `Service "${item.reference}"`;
  switch (outcome) {
    case 'FAILED':
      return `${name} FAILED: ${item.failure ?? 'no reason was given'}`;
    case 'STILL_STARTING': {
      const why = service.spec.commands?.ready !== undefined ? ': its ready command has not passed yet' : '';
      return `${name} is still ${item.phase} after ${seconds(waitedMs)}${why}; call start_service again to keep waiting, or read_logs`;
    }
    case 'STILL_STOPPING':
      return `${name} is still ${item.phase} after ${seconds(waitedMs)} (its stop rules: the stop command or SIGTERM, then SIGKILL after the stop timeout); call stop_service again to keep waiting`;
    case 'STOPPED':
      if (goal === 'RUNNING') {
        const why = item.wanted === 'RUNNING' ? 'its command ended' : 'it was stopped meanwhile';
        return `${name} is STOPPED: ${why}${item.failure !== undefined ? `: ${item.failure}` : ''}`;
      }
      return `${name} is STOPPED (after ${seconds(waitedMs)})`;
    default:
      return `${name} is ${item.phase} (after ${seconds(waitedMs)})`;
  }
}

async function answer(client: ApiClient, waited: Waited<Service>, goal: 'RUNNING' | 'STOPPED') {
  const service = waited.done ? waited.value : waited.last;
  const item = serviceItem(service);
  const outcome = outcomeOf(waited, goal);
  // Its last output says why it failed, or what it is doing while it is not there yet.
  const troubled = outcome === 'FAILED' || outcome.startsWith('STILL_') || (goal === 'RUNNING' && outcome === 'STOPPED');
  const url = service.status.logUrl;
  const outputTail = troubled && url !== undefined && url !== '' ? await tailLines(client, url, ANSWER_TAIL_LINES).catch(() => undefined) : undefined;
  const failureMessage = service.status.failureMessage;
  const lines = [headline(service, item, outcome, goal, waited.waitedMs)];
  if (outputTail !== undefined && outputTail.length > 0) lines.push(`Last ${plural(outputTail.length, 'line')} of its log:`, ...outputTail);
  return reply(lines.join('\n'), {
    service: item,
    outcome,
    waitedSeconds: waited.waitedMs / 1000,
    ...(failureMessage !== undefined ? { failureMessage } : {}),
    ...(outputTail !== undefined ? { outputTail } : {}),
  });
}

function requested(service: Service, verb: string) {
  const item = serviceItem(service);
  return reply(`${verb} service "${item.reference}" (now ${item.phase}); list_services shows where it got to`, { service: item, outcome: 'REQUESTED', waitedSeconds: 0 });
}

interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly progress: Progress | undefined;
}

function waitFor(client: ApiClient, id: string, settled: (service: Service) => boolean, options: WaitOptions): Promise<Waited<Service>> {
  return waitUntil(() => getService(client, id), settled, { ...options, events: client, describe: (service) => serviceLine(serviceItem(service)) });
}

export function registerServiceTools(server: McpServer, context: McpContext): void {
  server.registerTool(
    'list_services',
    {
      title: 'List services',
      description: 'The services of the workspace: phase, what was asked of each, the TCP ports it listens on, why one failed (one line), its log resource.',
      inputSchema: {
        references: z.array(z.string()).optional().describe('only these services (references)'),
        phases: z.array(ServicePhaseName).optional().describe('only services in these phases'),
      },
      outputSchema: { services: z.array(ServiceItem), automationsFile: FileProblems.optional() },
      annotations: { readOnlyHint: true },
    },
    async ({ references, phases }) => {
      const client = await context.daemon();
      const all = await listAll<Service>(client.call, 'ListServices', 'services', references !== undefined ? { filter: { references } } : {});
      const wanted = phases?.map(servicePhase);
      const status = await daemonStatus(client);
      const services = all
        .filter((service) => wanted === undefined || wanted.includes(service.status.phase ?? 'SERVICE_PHASE_STOPPED'))
        .map((service) => serviceItem(service, status.ports ?? []));
      const problems = fileProblems(status);
      const text = (services.length === 0 ? 'No services' : services.map(serviceLine).join('\n')) + fileProblemsText(problems);
      return reply(text, { services, ...(problems !== undefined ? { automationsFile: problems } : {}) });
    },
  );

  server.registerTool(
    'start_service',
    {
      title: 'Start a service',
      description: 'Starts a service (a running one is left alone) and by default waits until it is RUNNING (its ready command passed) or FAILED.',
      inputSchema: { service: ServiceArgument, ...WaitArguments },
      outputSchema: ServiceActionAnswer.shape,
    },
    async ({ service: name, wait, timeoutSeconds }, extra) => {
      const client = await context.daemon();
      const service = await findService(client, name);
      await client.call('StartService', { id: service.id });
      if (!wait) return requested(await getService(client, service.id), 'Starting');
      const options = { timeoutMs: timeoutSeconds * 1000, signal: AbortSignal.any([extra.signal, context.closed]), progress: progressOf(extra) };
      return answer(client, await waitFor(client, service.id, startSettled, options), 'RUNNING');
    },
  );

  server.registerTool(
    'stop_service',
    {
      title: 'Stop a service',
      description: 'Stops a service by its stop rules (its stop command, SIGTERM, then SIGKILL) and by default waits until it is STOPPED.',
      inputSchema: { service: ServiceArgument, ...WaitArguments },
      outputSchema: ServiceActionAnswer.shape,
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    async ({ service: name, wait, timeoutSeconds }, extra) => {
      const client = await context.daemon();
      const service = await findService(client, name);
      await client.call('StopService', { id: service.id });
      if (!wait) return requested(await getService(client, service.id), 'Stopping');
      const options = { timeoutMs: timeoutSeconds * 1000, signal: AbortSignal.any([extra.signal, context.closed]), progress: progressOf(extra) };
      return answer(client, await waitFor(client, service.id, stopSettled, options), 'STOPPED');
    },
  );

  server.registerTool(
    'restart_service',
    {
      title: 'Restart a service',
      description: 'Stops a service (if it runs), starts it in a new session, and by default waits until it is RUNNING or FAILED.',
      inputSchema: { service: ServiceArgument, ...WaitArguments },
      outputSchema: ServiceActionAnswer.shape,
      annotations: { destructiveHint: true },
    },
    async ({ service: name, wait, timeoutSeconds }, extra) => {
      const client = await context.daemon();
      const service = await findService(client, name);
      const options = { timeoutMs: timeoutSeconds * 1000, signal: AbortSignal.any([extra.signal, context.closed]), progress: progressOf(extra) };
      const started = Date.now();
      await client.call('StopService', { id: service.id });
      // Started only once the old session is gone, so that the new one is not folded into it.
      const stopped = await waitFor(client, service.id, stopSettled, options);
      if (!stopped.done) return answer(client, stopped, 'STOPPED');
      await client.call('StartService', { id: service.id });
      if (!wait) return requested(await getService(client, service.id), 'Restarting');
      const rest = { ...options, timeoutMs: Math.max(0, options.timeoutMs - (Date.now() - started)) };
      const waited = await waitFor(client, service.id, startSettled, rest);
      return answer(client, { ...waited, waitedMs: Date.now() - started }, 'RUNNING');
    },
  );
}
