#!/usr/bin/env node
// Quick start: runs a tend daemon in a scratch workspace, then, with the official @gitpod/sdk,
// creates a web service with a `ready` command, starts it, waits for RUNNING, reads its page and
// its log, stops it and shows that nothing is left running. Run it with `npm run demo`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Gitpod } from '@gitpod/sdk';

const cli = resolve(import.meta.dirname, '../dist/cli/main.js');
const workspace = mkdtempSync(join(tmpdir(), 'tend-quickstart-'));
const stateDir = join(workspace, '.tend');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function waitFor(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

console.log(`$ tend daemon --workspace ${workspace}`);
const daemon = spawn(process.execPath, [cli, 'daemon', '--workspace', workspace, '--state-dir', stateDir, '--stop-timeout', '5s'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  const info = await waitFor('the daemon', () => existsSync(join(stateDir, 'daemon.json')) && JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')));
  const token = readFileSync(join(stateDir, 'token'), 'utf8').trim();
  console.log(`tend listens on ${info.url} (environment ${info.environmentId}); \`tend env\` prints these exports.`);

  const client = new Gitpod({ baseURL: info.url, bearerToken: token });
  const services = client.environments.automations.services;
  const port = await freePort();
  const node = JSON.stringify(process.execPath);
  const { service } = await services.create({
    environmentId: info.environmentId,
    metadata: { reference: 'web', name: 'Web server' },
    spec: {
      commands: {
        start: `${node} -e "require('http').createServer((q, r) => r.end('hello from a service run by tend\\n')).listen(${port}, () => console.log('listening on ${port}'))"`,
        ready: `${node} -e "fetch('http://127.0.0.1:${port}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
      },
    },
  });
  console.log(`created service "web" (${service.id})`);

  await services.start({ id: service.id });
  let last = '';
  const running = await waitFor('RUNNING', async () => {
    const { service: current } = await services.retrieve({ id: service.id });
    if (current.status.phase !== last) console.log(`  phase: ${(last = current.status.phase)}`);
    if (current.status.phase === 'SERVICE_PHASE_FAILED') throw new Error(current.status.failureMessage);
    return current.status.phase === 'SERVICE_PHASE_RUNNING' && current;
  });
  console.log(`GET http://127.0.0.1:${port} → ${(await (await fetch(`http://127.0.0.1:${port}`)).text()).trim()}`);
  const log = await (await fetch(`${running.status.logUrl}?follow=false`, { headers: { authorization: `Bearer ${token}` } })).text();
  console.log(`log (${running.status.logUrl}):\n  ${log.trim()}`);

  await services.stop({ id: service.id });
  await waitFor('STOPPED', async () => {
    const { service: current } = await services.retrieve({ id: service.id });
    if (current.status.phase !== last) console.log(`  phase: ${(last = current.status.phase)}`);
    return current.status.phase === 'SERVICE_PHASE_STOPPED';
  });
  const refused = await fetch(`http://127.0.0.1:${port}`).then(() => false, () => true);
  console.log(refused ? `port ${port} is free again: nothing of the service is left running` : `port ${port} still answers!`);
  if (!refused) process.exitCode = 1;
} catch (error) {
  console.error(`quickstart failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(workspace, { recursive: true, force: true });
}
