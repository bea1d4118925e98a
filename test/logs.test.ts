import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from './helpers/daemon.js';
import { createService, runIdOf, waitPhase } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

async function open(url: string, token: string, query = ''): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const response = await fetch(`${url}${query}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.body!.getReader();
}

/** Reads from a log stream until `done(text)` holds. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

/** A shell command writing 4,000 numbered lines of 64 bytes (256 KiB) to its output in one write. */
function burst(workspace: string): string {
  const file = join(workspace, 'burst.txt');
  return `awk 'BEGIN { for (i = 1; i <= 4000; i++) printf "%063d\\n", i }' > ${file}; dd if=${file} bs=1M status=none`;
}

describe('log streams', () => {
  it('a follower sees lines written after it connected, and the stream ends when the session ends', async () => {
    const { client, daemon, workspace } = await startTestDaemon();
    const go = join(workspace, 'go');
    const stop = join(workspace, 'stop');
    const id = await createService(client, 'talker', {
      start: `echo first; while [ ! -f ${go} ]; do sleep 0.02; done; echo second; while [ ! -f ${stop} ]; do sleep 0.02; done; echo last`,
    });
    await client.environments.automations.services.start({ id });
    const running = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const reader = await open(running.status!.logUrl!, daemon.token);
    expect(await readUntil(reader, (text) => text.includes('first\n'))).toBe('first\n');
    writeFileSync(go, '');
    expect(await readUntil(reader, (text) => text.includes('second\n'))).toBe('second\n');
    writeFileSync(stop, '');
    // The service exits on its own: the stream drains its last line and ends.
    expect(await readUntil(reader, () => false)).toBe('last\n');
  });

  it('gives the last N lines, and no follow on request', async () => {
    const { client, daemon } = await startTestDaemon();
    const id = await createService(client, 'counter', { start: 'for i in 1 2 3 4 5; do echo line $i; done; exec sleep 60' });
    await client.environments.automations.services.start({ id });
    const running = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const url = running.status!.logUrl!;
    const headers = { authorization: `Bearer ${daemon.token}` };
    await waitFor(async () => (await (await fetch(`${url}?follow=false`, { headers })).text()).includes('line 5'), { what: 'five lines' });
    expect(await (await fetch(`${url}?follow=false&tail=2`, { headers })).text()).toBe('line 4\nline 5\n');
    expect(await (await fetch(`${url}?follow=false&tail=0`, { headers })).text()).toBe('');
    expect(await (await fetch(`${url}?follow=false&tail=100`, { headers })).text()).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    const bad = await fetch(`${url}?tail=-1`, { headers });
    expect(bad.status).toBe(400);
  });

  it('50 MB written by a service arrive complete and in order', async () => {
    const { client, daemon } = await startTestDaemon();
    const lines = 800_000; // 64 bytes each: 51.2 MB
    const id = await createService(client, 'chatty', {
      start: `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) printf "%063d\\n", i }'`,
      ready: 'true',
    });
    await client.environments.automations.services.start({ id });
    const service = await waitFor(async () => {
      const current = (await client.environments.automations.services.retrieve({ id })).service;
      return current.status?.logUrl !== undefined ? current : undefined;
    });
    const response = await fetch(service.status!.logUrl!, { headers: { authorization: `Bearer ${daemon.token}` } });
    const reader = response.body!.getReader();
    let expected = 1;
    let pending = '';
    let bad = 0;
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = pending + decoder.decode(value, { stream: true });
      const parts = text.split('\n');
      pending = parts.pop()!;
      for (const part of parts) {
        if (part.length !== 63 || Number(part) !== expected) bad += 1;
        expected += 1;
      }
    }
    expect(pending).toBe('');
    expect(bad).toBe(0);
    expect(expected - 1).toBe(lines);
  });

  it('rotates a log past its size cap, and a follower goes on after the rotation', async () => {
    const { client, daemon, workspace, stateDir } = await startTestDaemon({ maxLogBytes: 64 * 1024 });
    const more = join(workspace, 'more');
    const id = await createService(client, 'flood', {
      // The burst in one write (dd): a rotation sees all of it or none, and `.1` holds exactly the cap.
      start: `${burst(workspace)}; while [ ! -f ${more} ]; do sleep 0.02; done; echo after-rotation; exec sleep 60`,
    });
    await client.environments.automations.services.start({ id });
    const running = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const path = join(stateDir, 'logs', `${runIdOf(running)}.log`);
    const reader = await open(running.status!.logUrl!, daemon.token);
    await readUntil(reader, (text) => text.includes(`${'0'.repeat(59)}4000\n`));
    // Rotated once the log passed the cap: the last cap's worth of the burst is in `.1`.
    const last = `${'0'.repeat(59)}4000\n`;
    await waitFor(() => existsSync(`${path}.1`) && statSync(path).size <= 64 * 1024 && (readFileSync(`${path}.1`, 'utf8') + readFileSync(path, 'utf8')).endsWith(last), {
      what: 'the rotation',
    });
    // The rotated part holds the last cap's worth: a session never holds more than twice the cap.
    expect(statSync(`${path}.1`).size).toBe(64 * 1024);
    writeFileSync(more, '');
    expect(await readUntil(reader, (text) => text.includes('after-rotation\n'))).toBe('after-rotation\n');
  });
});

describe('the log cap under a writer as fast as it can', () => {
  it('a command that writes a gigabyte as fast as it can is rotated while it writes, and its log ends under the cap', async () => {
    const cap = 1024 * 1024;
    const { client, stateDir } = await startTestDaemon({ maxLogBytes: cap });
    const id = await createService(client, 'yes', { start: 'yes tend | head -c 1000000000; exec sleep 60' });
    await client.environments.automations.services.start({ id });
    const running = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const path = join(stateDir, 'logs', `${runIdOf(running)}.log`);
    const size = (file: string): number => (existsSync(file) ? statSync(file).size : 0);
    let largest = 0;
    // Sampled while it writes, until the gigabyte is out (the log stops growing past the cap).
    await waitFor(
      () => {
        largest = Math.max(largest, size(path) + size(`${path}.1`));
        return false;
      },
      { timeoutMs: 3000, intervalMs: 2 },
    ).catch(() => {});
    // `.1`: the cap's worth before the last rotation and what the writer put down while it copied (up to another cap).
    await waitFor(() => size(path) <= cap && size(`${path}.1`) <= 2 * cap, { what: 'the log under its cap once the writer stopped' });
    expect(size(`${path}.1`)).toBeGreaterThanOrEqual(cap);
    // Twice the cap, plus what the writer puts down while one rotation runs: its check and copy
    // take tens of milliseconds, and at GB/s on a loaded machine that is hundreds of MB (281 MB seen
    // in CI on a fast machine, other test files running beside). That part is the machine's speed
    // (bench W4 measures it); what holds anywhere is that the log is rotated while it is written:
    // rotated only once the writer stopped, it would have held the whole gigabyte.
    expect(largest).toBeLessThan(2 * cap + 500 * 1024 * 1024);
  });
});

describe('a follower and a rotation', () => {
  it('a follower that had not read everything when the log was rotated gets the rest from the rotated part, then the new output', async () => {
    const { client, daemon, workspace } = await startTestDaemon({ maxLogBytes: 64 * 1024 });
    const go = join(workspace, 'go');
    const more = join(workspace, 'more');
    // 4000 lines once the follower is attached (and has read nothing of them yet), then one more later.
    const id = await createService(client, 'burst', {
      start: `while [ ! -f ${go} ]; do sleep 0.01; done; ${burst(workspace)}; while [ ! -f ${more} ]; do sleep 0.02; done; echo after; exec sleep 60`,
    });
    await client.environments.automations.services.start({ id });
    const running = await waitPhase(client, id, 'SERVICE_PHASE_RUNNING');
    const reader = await open(running.status!.logUrl!, daemon.token);
    writeFileSync(go, '');
    const text = await readUntil(reader, (seen) => seen.includes(`${'0'.repeat(59)}4000\n`));
    // Nothing of the last cap's worth is missing or repeated (what was written during the copy may be lost).
    const lines = text.split('\n').filter(Boolean).map(Number);
    expect(lines.at(-1)).toBe(4000);
    expect(lines.slice(-1000)).toEqual(Array.from({ length: 1000 }, (_, index) => 3001 + index));
    writeFileSync(more, '');
    expect(await readUntil(reader, (seen) => seen.includes('after\n'))).toBe('after\n');
  });
});
