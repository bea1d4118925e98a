/**
 * The TUI in-process, on a fake terminal stream, against a real daemon with real processes:
 * it follows the event stream (a service and a task created after it opened appear), shows a
 * service's output across a restart it asked for, runs a task and stops its execution by key,
 * searches, redraws on a resize, and detaches leaving everything running and the terminal as it was.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../src/client/api-client.js';
import { ResourceWatch } from '../src/client/resource-watch.js';
import { runTui } from '../src/cli/tui/tui-app.js';
import { Scope } from '../src/cli/up-scope.js';
import { startTestDaemon } from './helpers/daemon.js';
import { FakeTerminal } from './helpers/fake-terminal.js';
import { createService, getService, waitPhase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

describe('the TUI on a fake terminal', () => {
  it('follows events, restarts, runs and stops by key, searches, resizes and detaches', async () => {
    const td = await startTestDaemon();
    const web = await createService(td.client, 'web', { start: 'echo "web session $$"; while :; do echo "tick $$"; sleep 0.2; done' });
    await td.client.environments.automations.services.start({ id: web });
    await waitPhase(td.client, web, 'SERVICE_PHASE_RUNNING');
    const client = connect(td.stateDir);
    const watch = await ResourceWatch.start(client);
    const terminal = new FakeTerminal(110, 30);
    const exit = runTui(client, watch, Scope.everything({ serviceIds: [], executionIds: [] }), { attached: true, terminal, signals: false });
    const see = (text: string | RegExp) =>
      waitFor(() => (typeof text === 'string' ? terminal.screen().includes(text) : text.test(terminal.screen())) && terminal.screen(), { what: String(text) }).catch((error: Error) => {
        throw new Error(`${error.message}; the screen:\n${terminal.screen()}`);
      });

    await see(/▸ ● web +service running +\d+ +\d+s/);
    expect(terminal.alternate).toBe(true);
    expect(terminal.stdin.rawMode).toBe(true);
    const firstPid = (await getService(td.client, web)).status?.logUrl;
    await see(/tick \d+/);

    // Created after the TUI opened: it appears, from the event stream.
    const { task } = await td.client.environments.automations.tasks.create({ metadata: { reference: 'slow' }, spec: { command: 'echo started; exec sleep 30' } });
    await see(/○ slow +task +-/);

    // r restarts the selected service; its output goes on in the new session.
    terminal.key('r');
    await see('── new session');
    await waitFor(async () => (await getService(td.client, web)).status?.logUrl !== firstPid, { what: 'a new session' });
    await see(/── new session \d\d:\d\d:\d\d\n(.*\n)?web session \d+/);

    // j selects the task, s runs it, x stops its execution.
    terminal.key('j');
    await see(/▸ ○ slow/);
    terminal.key('s');
    await see(/▸ ◐ slow +task +running/);
    await see('started');
    terminal.key('x');
    await see(/▸ ■ slow +task +stopped/);
    const { taskExecutions } = await td.client.environments.automations.tasks.executions.list({ filter: { taskIds: [task!.id] } });
    expect(taskExecutions[0]?.status?.phase).toBe('TASK_EXECUTION_PHASE_STOPPED');

    // Search in the service's output.
    terminal.key('k');
    terminal.key('/');
    for (const char of 'session') terminal.key(char);
    await see('/session█');
    terminal.key('\r');
    await see(/── web · service · running · pid \d+ · lines \d+–\d+ of \d+ ─/);
    await see(/▶web session \d+/);
    // Highlighted (the fake terminal drops colours from what it shows).
    expect(terminal.written).toContain('\u001b[7m\u001b[33msession\u001b[39m\u001b[27m');

    terminal.resize(70, 20);
    await see(/▸ ● web +service running/);
    expect(terminal.screen().split('\n')).toHaveLength(20);

    // d: detach. The terminal is as it was; the service runs on.
    terminal.key('d');
    expect(await exit).toBe(0);
    expect(terminal.alternate).toBe(false);
    expect(terminal.cursorVisible).toBe(true);
    expect(terminal.stdin.rawMode).toBe(false);
    expect(terminal.screen()).toContain('tend: detached: the daemon at');
    expect((await getService(td.client, web)).status?.phase).toBe('SERVICE_PHASE_RUNNING');
  });

  it('ends by itself, saying so, when the daemon is stopped from elsewhere', async () => {
    const td = await startTestDaemon();
    const client = connect(td.stateDir);
    const watch = await ResourceWatch.start(client);
    const terminal = new FakeTerminal(80, 20);
    const exit = runTui(client, watch, Scope.everything({ serviceIds: [], executionIds: [] }), { attached: true, terminal, signals: false });
    await waitFor(() => terminal.screen().includes('(no services or tasks yet)'), { what: 'the empty table' });
    await td.stop();
    expect(await exit).toBe(0);
    expect(terminal.alternate).toBe(false);
    expect(terminal.screen()).toContain('tend: the daemon was stopped (`tend down`): everything it ran is stopped');
  });
});
