/** A service as tools show it: its phase, what was asked of it, why it failed, where its log is. */
import { z } from 'zod';
import type { AutomationTrigger, Service } from '../domain/schema.js';
import type { EnvironmentPort } from './daemon-status.js';
import { firstLine, serviceLogUri, servicePhaseName, ServicePhaseName } from './answers.js';

export const ServiceItem = z.object({
  id: z.string(),
  reference: z.string().describe('the key of the service in automations.yaml'),
  name: z.string().optional(),
  phase: ServicePhaseName,
  wanted: ServicePhaseName.describe('the phase that was asked for (started: RUNNING, stopped: STOPPED)'),
  failure: z.string().optional().describe('why it failed, in one line'),
  startCommand: z.string().optional(),
  readyCommand: z.string().optional(),
  triggeredBy: z.array(z.string()),
  logUri: z.string().describe('the resource of its log (subscribe to follow it)'),
  ports: z
    .array(z.object({ port: z.number(), url: z.string(), name: z.string(), listening: z.boolean() }))
    .describe('the TCP ports its processes listen on, and those recorded for it by `gitpod environment port open`'),
});
export type ServiceItem = z.infer<typeof ServiceItem>;

export function triggerNames(triggers: readonly AutomationTrigger[] | undefined): string[] {
  return (triggers ?? []).flatMap((trigger) => Object.entries(trigger).filter(([, on]) => on === true).map(([name]) => name));
}

export function serviceItem(service: Service, ports: readonly EnvironmentPort[] = []): ServiceItem {
  const reference = service.metadata.reference ?? service.id;
  const failure = firstLine(service.status.failureMessage);
  const { start, ready } = service.spec.commands ?? {};
  return {
    id: service.id,
    reference,
    ...(service.metadata.name !== undefined && service.metadata.name !== '' ? { name: service.metadata.name } : {}),
    phase: servicePhaseName(service.status.phase),
    wanted: servicePhaseName(service.spec.desiredPhase),
    ...(failure !== undefined ? { failure } : {}),
    ...(start !== undefined ? { startCommand: start } : {}),
    ...(ready !== undefined ? { readyCommand: ready } : {}),
    triggeredBy: triggerNames(service.metadata.triggeredBy),
    logUri: serviceLogUri(reference),
    ports: ports.filter((port) => port.serviceId === service.id).map(({ port, url, name, listening }) => ({ port, url, name, listening })),
  };
}

/** `web: RUNNING`, with what was asked when it differs and the failure in one line. */
export function serviceLine(item: ServiceItem): string {
  const wanted = item.wanted !== item.phase && !(item.wanted === 'RUNNING' && item.phase === 'STARTING') ? ` (wanted ${item.wanted})` : '';
  const ports = item.ports.length === 0 ? '' : ` (ports ${item.ports.map((port) => port.port).join(', ')})`;
  return `${item.reference}: ${item.phase}${wanted}${ports}${item.failure !== undefined ? `: ${item.failure}` : ''}`;
}
