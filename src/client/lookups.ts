/**
 * Finding a service or a task by what a person or an agent calls it: its reference (the key in
 * automations.yaml), or its id. Not found is the CLI's message.
 */
import type { Service, Task } from '../domain/schema.js';
import { CliError, type ApiClient } from './api-client.js';

const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findService(client: ApiClient, name: string): Promise<Service> {
  const list = (filter: Record<string, string[]>) => client.call<{ services?: Service[] }>('ListServices', { filter });
  let service = (await list({ references: [name] })).services?.[0];
  if (service === undefined && ID_PATTERN.test(name)) service = (await list({ serviceIds: [name] })).services?.[0];
  if (service === undefined) throw new CliError(`Service "${name}" not found: \`tend services list\` shows them all`);
  return service;
}

export async function findTask(client: ApiClient, name: string): Promise<Task> {
  const list = (filter: Record<string, string[]>) => client.call<{ tasks?: Task[] }>('ListTasks', { filter });
  let task = (await list({ references: [name] })).tasks?.[0];
  if (task === undefined && ID_PATTERN.test(name)) task = (await list({ taskIds: [name] })).tasks?.[0];
  if (task === undefined) throw new CliError(`Task "${name}" not found: \`tend tasks list\` shows them all`);
  return task;
}
