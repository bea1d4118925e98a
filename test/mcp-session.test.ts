import { spawn } from 'node:child_process';
import { ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI } from './helpers/cli.js';
import { mcpWorkspace, startMcp } from './helpers/mcp.js';
import { waitFor } from './helpers/wait.js';

const FILE = [
  'services:',
  '  web:',
  '    commands: {start: "echo serving; exec sleep 60", ready: "true"}',
  'tasks:',
  '  build: {command: "echo compiling; sleep 0.3; echo built"}',
  '  slow: {command: "echo started; exec sleep 30"}',
];

function alive(pid: number | null | undefined): boolean {
  if (pid === null || pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('tend mcp: log resources', () => {
  it('lists a log per service and execution, and tells a subscriber when new output arrives', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    const updated: string[] = [];
    mcp.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updated.push(notification.params.uri);
    });
    let listChanged = 0;
    mcp.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      listChanged += 1;
    });

    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate).sort()).toEqual(['tend://logs/execution/{id}', 'tend://logs/service/{reference}']);
    expect((await mcp.client.listResources()).resources.map((resource) => resource.uri)).toEqual(['tend://logs/service/web']);
    // Not run yet: an empty log, to which one can subscribe all the same.
    expect((await mcp.client.readResource({ uri: 'tend://logs/service/web' })).contents).toEqual([
      { uri: 'tend://logs/service/web', mimeType: 'text/plain', text: '' },
    ]);
    await mcp.client.subscribeResource({ uri: 'tend://logs/service/web' });
    expect((await mcp.call('start_service', { service: 'web' })).data.outcome).toBe('RUNNING');
    await waitFor(() => updated.includes('tend://logs/service/web'), { what: 'an update of the service log' });
    const read = await mcp.client.readResource({ uri: 'tend://logs/service/web' });
    expect(read.contents[0]).toMatchObject({ text: 'serving\n' });

    // An execution's log, subscribed while it runs.
    const build = await mcp.call('run_task', { task: 'build', wait: false });
    expect(build.data.outcome).toBe('STARTED');
    await waitFor(() => listChanged > 0, { what: 'resources/list_changed after a new execution' });
    const uri = `tend://logs/execution/${build.data.execution.id}`;
    expect((await mcp.client.listResources()).resources.map((resource) => resource.uri)).toContain(uri);
    await mcp.client.subscribeResource({ uri });
    await waitFor(() => updated.includes(uri), { what: 'an update of the execution log' });
    await waitFor(async () => ((await mcp.client.readResource({ uri })).contents[0] as { text?: string } | undefined)?.text === 'compiling\nbuilt\n', { what: 'the whole execution log' });
    await mcp.client.unsubscribeResource({ uri });

    await expect(mcp.client.subscribeResource({ uri: 'tend://logs/service/nope' })).rejects.toThrow('Service "nope" not found');
    await expect(mcp.client.subscribeResource({ uri: 'file:///etc/passwd' })).rejects.toThrow('Unknown resource "file:///etc/passwd"');
    await expect(mcp.client.readResource({ uri: 'tend://logs/execution/nope' })).rejects.toThrow('Invalid "id" "nope": ids are UUIDs, and no task execution has this one');
  });
});

describe('tend mcp: the end of a session', () => {
  it('ends when stdin closes, with a wait and a log follow in flight, and leaves the daemon running', async () => {
    const workspace = mcpWorkspace(FILE);
    const mcp = await startMcp(workspace);
    expect((await mcp.call('start_service', { service: 'web' })).data.outcome).toBe('RUNNING');
    await mcp.client.subscribeResource({ uri: 'tend://logs/service/web' });
    const waiting = mcp.call('run_task', { task: 'slow', timeoutSeconds: 600 }).catch((error: Error) => error);
    await waitFor(async () => (await mcp.call('list_executions', { phases: ['RUNNING'] })).data.executions.length === 1, { what: 'the slow task to run' });
    const pid = mcp.transport.pid;
    // close() ends the child's stdin, then waits 2 s before it sends SIGTERM: it must not come to that.
    await mcp.client.close();
    expect(await waiting).toBeInstanceOf(Error);
    await waitFor(() => !alive(pid), { what: 'tend mcp to exit' });
    expect(mcp.stderr()).toContain('tend mcp: stdin ended: closed');
    expect(mcp.stderr()).not.toContain('SIGTERM');
    expect((await workspace.tend('status')).stdout).toMatch(/\nservice +web +running /);
  });

  it('exits 0 by itself when stdin ends before anything was asked', async () => {
    const workspace = mcpWorkspace(FILE);
    const child = spawn(process.execPath, [CLI, 'mcp', '--workspace', workspace.dir], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TEST_TAG: workspace.tag } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await waitFor(() => stderr.includes('serving on stdio'), { what: 'tend mcp to serve' });
    child.stdin.end();
    expect(await exited).toEqual([0, null]);
    expect(stderr).toContain('stdin ended: closed');
  });
});
