/** What agents call resources by: references, looked up from ids. */
import type { ApiClient } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import type { Service, Task } from '../domain/schema.js';

export async function taskNames(client: ApiClient): Promise<Map<string, string>> {
  const tasks = await listAll<Task>(client.call, 'ListTasks', 'tasks');
  return new Map(tasks.map((task) => [task.id, task.metadata.reference ?? task.id]));
}

export async function serviceNames(client: ApiClient): Promise<Map<string, string>> {
  const services = await listAll<Service>(client.call, 'ListServices', 'services');
  return new Map(services.map((service) => [service.id, service.metadata.reference ?? service.id]));
}
