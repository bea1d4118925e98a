/**
 * A watch reads the services its events name one by one when they are few, and by lists of just
 * those ids when many change at once (client/service-reads.ts): after one StopServices of 30
 * services it knows them all STOPPED having read none of them by GetService.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { apiClient, type ApiClient } from '../src/client/api-client.js';
import { ResourceWatch } from '../src/client/resource-watch.js';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, waitPhase } from './helpers/services.js';

describe('a watch of many services', () => {
  it('reads one changed service by GetService and thirty at once by ListServices', async () => {
    const td = await startTestDaemon();
    const ids = await Promise.all(Array.from({ length: 30 }, (_, index) => createService(td.client, `s${index}`, { start: 'exec sleep 60' })));
    const calls: string[] = [];
    const plain = apiClient(td.daemon.info, td.daemon.token);
    const client: ApiClient = { ...plain, call: (method, body, service) => (calls.push(method), plain.call(method, body, service)) };
    const watch = await ResourceWatch.start(client);
    onTestFinished(() => watch.close());

    calls.length = 0;
    await td.client.environments.automations.services.start({ id: ids[0]! });
    await watch.until(() => watch.services.get(ids[0]!)?.status.phase === 'SERVICE_PHASE_RUNNING');
    expect(calls.filter((method) => method === 'GetService').length).toBeGreaterThan(0);
    expect(calls).not.toContain('ListServices');

    for (const id of ids.slice(1)) await td.client.environments.automations.services.start({ id });
    for (const id of ids) await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    await watch.until(() => ids.every((id) => watch.services.get(id)?.status.phase === 'SERVICE_PHASE_RUNNING'));
    calls.length = 0;
    await td.call('StopServices', { all: true }, { service: 'tend.v1.DaemonService' });
    await watch.until(() => ids.every((id) => watch.services.get(id)?.status.phase === 'SERVICE_PHASE_STOPPED'));
    expect(calls).toContain('ListServices');
    expect(calls.filter((method) => method === 'GetService').length).toBeLessThan(ids.length);
  });
});
