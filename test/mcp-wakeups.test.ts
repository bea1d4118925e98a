/**
 * A tool call's wait reads again when the daemon says something changed (its WatchEvents), not on
 * a timer: the wakeups of a real daemon's stream.
 */
import { describe, it } from 'vitest';
import { connect } from '../src/client/api-client.js';
import { daemonWakeups } from '../src/mcp/daemon-wakeups.js';
import { startTestDaemon } from './helpers/daemon.js';

/** Longer than any test may take: a wait that ends was woken by an event. */
const NEVER_MS = 10 * 60 * 1000;

describe('the waits of tend mcp', () => {
  it('wake on the daemon\'s next event, and at once for an event that came before they asked', async () => {
    const td = await startTestDaemon();
    const client = connect(td.stateDir);
    const session = new AbortController();
    const wakeups = await daemonWakeups(client, session.signal);
    try {
      const woken = wakeups.next(NEVER_MS, session.signal);
      await td.client.environments.automations.services.create({ metadata: { reference: 'a' }, spec: { commands: { start: 'exec sleep 60' } } });
      await woken;
      // Creating and starting one more while nobody waits: the next wait returns at once.
      const { service } = await td.client.environments.automations.services.create({ metadata: { reference: 'b' }, spec: { commands: { start: 'exec sleep 60' } } });
      await td.client.environments.automations.services.start({ id: service.id });
      await wakeups.next(NEVER_MS, session.signal);
    } finally {
      wakeups.close();
      session.abort();
    }
  });

  it('end when the call is cancelled, and wake at their interval when nothing happens', async () => {
    const td = await startTestDaemon();
    const client = connect(td.stateDir);
    const call = new AbortController();
    const wakeups = await daemonWakeups(client, call.signal);
    await wakeups.next(5, call.signal);
    const cancelled = wakeups.next(NEVER_MS, call.signal);
    call.abort();
    await cancelled;
    wakeups.close();
  });
});
