/**
 * Issue 22: the ports each service listens on are found (not declared) and shown; the port a
 * service needs, held by someone else, says who holds it.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { dockerUnavailable, TEST_IMAGE } from './helpers/docker.js';
import { createService, getService, waitPhase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

const dockerMissing = await dockerUnavailable();

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A process of nobody's that holds a port (killed when the test ends). */
async function squatter(port: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '0.0.0.0'); setInterval(() => {}, 1000)`], { stdio: 'ignore' });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  await waitFor(async () => {
    const probe = createServer();
    const taken = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(true));
      probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(false)));
    });
    return taken;
  }, { what: `the squatter on port ${port}` });
  return child.pid!;
}

const listen = (ports: number[]): string =>
  `exec ${JSON.stringify(process.execPath)} -e "${ports.map((port) => `require('net').createServer().listen(${port}, '127.0.0.1');`).join(' ')} setInterval(() => {}, 1000)"`;

async function portsOf(td: TestDaemon, serviceId: string): Promise<number[]> {
  const { ports } = (await td.call('ListPorts', {}, { service: 'tend.v1.DaemonService' })).body as { ports: Array<{ port: number; serviceId: string; listening: boolean; found: boolean }> };
  return ports.filter((port) => port.serviceId === serviceId && port.found).map((port) => port.port).sort((a, b) => a - b);
}

describe('ports', () => {
  it('a service that listens on two ports shows both, in ListPorts and tend status; they vanish when it stops', async () => {
    const td = await startTestDaemon();
    const [a, b] = [await freePort(), await freePort()];
    const id = await createService(td.client, 'web', { start: listen([a, b]) });
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING');
    const expected = [a, b].sort((x, y) => x - y);
    await waitFor(async () => JSON.stringify(await portsOf(td, id)) === JSON.stringify(expected), { what: 'both ports found' });
    const status = await runCli(['status', '--state-dir', td.stateDir]);
    expect(status.stdout).toMatch(new RegExp(`\\nservice +web +running +\\d+ +\\S+ +${expected.join(',')}`));
    expect(status.stdout).toContain(`${expected[0]} web http://127.0.0.1:${expected[0]} (service web) (found listening)`);
    await td.client.environments.automations.services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED');
    expect(await portsOf(td, id)).toEqual([]);
  });

  it('with a squatter on its port, a service whose ready command is `gitpod environment port open PORT` never becomes RUNNING and says who holds it', async () => {
    const td = await startTestDaemon();
    const port = await freePort();
    const pid = await squatter(port);
    const id = await createService(td.client, 'web', { start: 'exec sleep 60', ready: `gitpod environment port open ${port}` }, { readinessTimeout: '1s' });
    await td.client.environments.automations.services.start({ id });
    const held = `Port ${port} is held by pid ${pid} (${process.execPath} -e require('net').createServer().listen(${port}, '0.0.0.0'); setInterval(() => {}, 1000)), not by service "web"`;
    const waiting = await waitFor(async () => {
      const { readiness } = (await td.call('GetStatus', {}, { service: 'tend.v1.DaemonService' })).body as { readiness: Array<{ lastProbe: { output: string } | null }> };
      return readiness[0]?.lastProbe?.output.includes(held) === true ? readiness[0] : undefined;
    }, { what: 'the waiting line to name the holder' });
    expect(waiting.lastProbe!.output).toContain(`Cannot open port ${port}: ${held}`);
    const failed = await waitPhase(td.client, id, 'SERVICE_PHASE_FAILED');
    expect(failed.status?.failureMessage).toContain(held);
  });

  it('a Node service that fails with EADDRINUSE names the holder of the port in its failure message', async () => {
    const td = await startTestDaemon();
    const port = await freePort();
    const pid = await squatter(port);
    const id = await createService(td.client, 'api', { start: `exec ${JSON.stringify(process.execPath)} -e "require('net').createServer().listen(${port})"` });
    await td.client.environments.automations.services.start({ id });
    const failed = await waitPhase(td.client, id, 'SERVICE_PHASE_FAILED');
    expect(failed.status?.failureMessage).toMatch(new RegExp(`^Port ${port} is held by pid ${pid} \\(.*\\), not by service "api": Service "api": start command .* exited with code 1; last output:\\n`));
    expect(failed.status?.failureMessage).toContain('EADDRINUSE');
  });

  it.skipIf(dockerMissing !== null)('a Docker service on the host network shows its port', async () => {
    const td = await startTestDaemon();
    const port = await freePort();
    const id = await createService(td.client, 'httpd', { start: `exec httpd -f -p ${port}` }, { runsOn: { docker: { image: TEST_IMAGE } } });
    await td.client.environments.automations.services.start({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_RUNNING', 30_000);
    await waitFor(async () => (await portsOf(td, id)).includes(port), { what: 'the container\'s port', timeoutMs: 15_000 });
    await td.client.environments.automations.services.stop({ id });
    await waitPhase(td.client, id, 'SERVICE_PHASE_STOPPED', 30_000);
    expect((await getService(td.client, id)).status?.phase).toBe('SERVICE_PHASE_STOPPED');
  });
});
