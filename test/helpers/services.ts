import { existsSync, readFileSync } from 'node:fs';
import type { Gitpod } from '@gitpod/sdk';
import { waitFor } from './wait.js';

type Client = Gitpod;
type ServiceOf = Awaited<ReturnType<Client['environments']['automations']['services']['retrieve']>>['service'];

export async function createService(
  client: Client,
  reference: string,
  commands: { start: string; ready?: string; stop?: string },
  spec: Record<string, unknown> = {},
): Promise<string> {
  const { service } = await client.environments.automations.services.create({
    metadata: { reference, name: reference },
    spec: { commands, ...spec },
  });
  return service.id;
}

export async function getService(client: Client, id: string): Promise<ServiceOf> {
  return (await client.environments.automations.services.retrieve({ id })).service;
}

export async function waitPhase(client: Client, id: string, phase: string, timeoutMs = 10_000): Promise<ServiceOf> {
  return waitFor(
    async () => {
      const service = await getService(client, id);
      return service.status?.phase === phase ? service : undefined;
    },
    { timeoutMs, what: `service ${id} to be ${phase}` },
  );
}

/** Reads a pid a fixture wrote to a file, once the file holds one. */
export async function readPidFile(path: string): Promise<number> {
  return waitFor(
    () => {
      if (!existsSync(path)) return undefined;
      const pid = Number(readFileSync(path, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    },
    { what: `a pid in ${path}` },
  );
}

/** True while the pid exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The id tend made for a service's current run: its log's name (the last part of `logUrl`) and
 * the TEND_SESSION_ID marker of its processes.
 */
export function runIdOf(service: { status?: { logUrl?: string } | null }): string {
  const url = service.status?.logUrl;
  if (url === undefined) throw new Error('The service has no logUrl, hence no run');
  return new URL(url).pathname.split('/').pop()!;
}
