/**
 * Connect's rules for the envelope of a call, as a Connect-go server applies them: POST only
 * (405), the content types a method takes (415), gzipped bodies, `unimplemented` for a method of
 * a known service that tend does not serve; the event stream in Connect's streaming framing; and
 * the server's timeouts and connection cap under a flood of idle and slow sockets.
 */
import { connect as connectSocket, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { createService } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

const AUTOMATION = 'gitpod.v1.EnvironmentAutomationService';

async function request(td: TestDaemon, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const response = await fetch(`${td.daemon.info.url}/${path}`, {
    method: 'POST',
    ...init,
    headers: { authorization: `Bearer ${td.daemon.token}`, ...init.headers },
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}

const serviceCount = async (td: TestDaemon): Promise<number> => (await td.call('ListServices', {})).body.services.length;

function envelope(flags: number, message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

/** Reads Connect envelopes from a response body: each `{flags, message}`. */
async function* envelopes(body: ReadableStream<Uint8Array>): AsyncGenerator<{ flags: number; message: any }> {
  let buffered = Buffer.alloc(0);
  for await (const chunk of body) {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      const end = 5 + buffered.readUInt32BE(1);
      yield { flags: buffered.readUInt8(0), message: JSON.parse(buffered.subarray(5, end).toString()) };
      buffered = buffered.subarray(end);
    }
  }
}

describe("Connect's envelope of a call", () => {
  it('inflates a gzipped body, bounds it once inflated, and refuses other encodings', async () => {
    const td = await startTestDaemon();
    const body = gzipSync(JSON.stringify({ metadata: { reference: 'zipped' }, spec: { commands: { start: 'true' } } }));
    const zipped = await request(td, `${AUTOMATION}/CreateService`, { body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect(zipped.status).toBe(200);
    expect(zipped.body.service.metadata.reference).toBe('zipped');

    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, ' '));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const inflated = await request(td, `${AUTOMATION}/CreateService`, { body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expect(inflated.status).toBe(429);
    expect(inflated.body).toMatchObject({ code: 'resource_exhausted', message: expect.stringContaining('once inflated') });

    const brotli = await request(td, `${AUTOMATION}/CreateService`, { body: 'x', headers: { 'content-type': 'application/json', 'content-encoding': 'br' } });
    expect(brotli.status).toBe(501);
    expect(brotli.body.code).toBe('unimplemented');
    expect(brotli.headers.get('accept-encoding')).toBe('gzip');
    expect(await serviceCount(td)).toBe(1);
  });

  it('answers 415 to a content type a method does not take, and 405 to anything but POST', async () => {
    const td = await startTestDaemon();
    const body = JSON.stringify({ metadata: { reference: 'web' }, spec: { commands: { start: 'true' } } });
    for (const type of ['text/plain', 'application/proto', 'text/xml']) {
      const refused = await request(td, `${AUTOMATION}/CreateService`, { body, headers: { 'content-type': type } });
      expect(refused.status, type).toBe(415);
      expect(refused.headers.get('accept-post')).toBe('application/json');
      expect(refused.body.message).toContain(`Unsupported Content-Type "${type}"`);
    }
    // No content type at all (a byte body gets none from fetch).
    const none = await request(td, `${AUTOMATION}/CreateService`, { body: Buffer.from(body) });
    expect(none.status).toBe(415);
    expect(none.body.message).toContain('no Content-Type');
    expect((await request(td, `${AUTOMATION}/CreateService`, { body, headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(200);

    const id = (await td.call('ListServices', {})).body.services[0].id;
    const message = encodeURIComponent(JSON.stringify({ id }));
    for (const path of [`${AUTOMATION}/ListServices`, `${AUTOMATION}/StartService?encoding=json&message=${message}`, 'gitpod.v1.EventService/WatchEvents']) {
      const get = await request(td, path, { method: 'GET' });
      expect(get.status, path).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    }
    expect((await td.call('GetService', { id })).body.service.spec.desiredPhase).toBe('SERVICE_PHASE_STOPPED');
  });

  it("answers unimplemented for a method of a known service that tend does not serve (the SDK's events.list)", async () => {
    const td = await startTestDaemon();
    const error = await td.client.events.list({}).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 501, error: { code: 'unimplemented', message: expect.stringContaining('ListAuditLogs') } });
    expect((error as { headers: Headers }).headers.get('x-should-retry')).toBe('false');
    const environment = await request(td, 'gitpod.v1.EnvironmentService/ListEnvironments', { body: '{}', headers: { 'content-type': 'application/json' } });
    expect(environment.status).toBe(501);
    // The SDK's event stream (application/jsonl) still streams.
    const stream = await td.client.events.watch({ environmentId: td.daemon.info.environmentId });
    const id = await createService(td.client, 'watched', { start: 'true' });
    for await (const event of stream) {
      if (event.resourceId === id) {
        expect(event).toMatchObject({ operation: 'RESOURCE_OPERATION_CREATE', resourceType: 'RESOURCE_TYPE_SERVICE' });
        break;
      }
    }
    stream.controller.abort();
  });
});

describe('WatchEvents in Connect streaming (application/connect+json)', () => {
  it('streams enveloped events, refuses a wrong request with an end-stream error, and ends cleanly when the daemon stops', async () => {
    const td = await startTestDaemon();
    const open = (message: unknown) =>
      fetch(`${td.daemon.info.url}/gitpod.v1.EventService/WatchEvents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${td.daemon.token}`, 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
        body: envelope(0, message),
      });
    const refused = await open({ environmentId: '00000000-0000-4000-8000-000000000000' });
    expect(refused.status).toBe(200);
    expect(refused.headers.get('content-type')).toBe('application/connect+json');
    const answered = [];
    for await (const item of envelopes(refused.body!)) answered.push(item);
    const [end] = answered;
    expect(end).toMatchObject({ flags: 2, message: { error: { code: 'not_found', message: expect.stringContaining('this daemon serves environment') } } });

    const response = await open({ environmentId: td.daemon.info.environmentId });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/connect+json');
    const read = envelopes(response.body!);
    const id = await createService(td.client, 'web', { start: 'true' });
    const first = await read.next();
    expect(first.value).toEqual({ flags: 0, message: { operation: 'RESOURCE_OPERATION_CREATE', resourceType: 'RESOURCE_TYPE_SERVICE', resourceId: id } });
    await td.stop();
    const rest = [];
    for await (const item of read) rest.push(item);
    expect(rest.at(-1)).toEqual({ flags: 2, message: {} });
  });
});

describe('the server under a flood of idle and slow sockets (no token needed to open one)', () => {
  const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, maxConnections: 40 };

  interface Opened {
    socket: Socket;
    isClosed: () => boolean;
    /** What happened to it, for a failure's message. */
    events: string[];
  }

  function openSocket(url: string): Opened {
    const { hostname, port } = new URL(url);
    const started = Date.now();
    const socket = connectSocket(Number(port), hostname);
    const events: string[] = [];
    const seen = (what: string) => events.push(`${what} at ${Date.now() - started} ms`);
    let isClosed = false;
    socket.once('connect', () => seen('connect'));
    socket.on('error', (error: NodeJS.ErrnoException) => seen(`error ${error.code ?? error.message}`));
    socket.once('end', () => seen('end'));
    socket.once('close', () => {
      isClosed = true;
      seen('close');
    });
    return { socket, isClosed: () => isClosed, events };
  }

  /** Waits for every socket to be closed by the server; a failure tells what the open ones saw. */
  async function allClosed(sockets: Opened[], what: string): Promise<void> {
    await waitFor(() => sockets.every((opened) => opened.isClosed()), { what }).catch((error: Error) => {
      const open = sockets.filter((opened) => !opened.isClosed());
      const seen = open.slice(0, 3).map((opened) => `[${opened.events.join(', ')}]`);
      throw new Error(`${error.message}; ${open.length} of ${sockets.length} still open, the first saw ${seen.join(' ')}`);
    });
  }

  it("keeps answering the token's calls, closes the idle, slow and kept-alive sockets in time, and holds the cap", async () => {
    const td = await startTestDaemon({ serverLimits: limits });
    const url = td.daemon.info.url;
    const idle = Array.from({ length: 150 }, () => openSocket(url));
    const slow = Array.from({ length: 30 }, () => openSocket(url));
    const drip = setInterval(() => {
      for (const { socket } of slow) if (!socket.destroyed) socket.write('X');
    }, 50);
    try {
      for (const { socket } of slow) socket.write('POST /gitpod.v1.EnvironmentAutomationService/ListServices HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      await waitFor(() => [...idle, ...slow].every(({ socket }) => !socket.connecting), { what: 'the flood to connect' });
      // While the flood holds its sockets, every call of the token is answered.
      for (let index = 0; index < 20; index++) {
        const id = await createService(td.client, `during-${index}`, { start: 'true' });
        expect(id).toBeDefined();
      }
      const open = [...idle, ...slow].filter(({ socket }) => !socket.destroyed && socket.readyState === 'open').length;
      expect(open).toBeLessThanOrEqual(limits.maxConnections);
      // Nothing sent, or headers that never end: closed by the headers timeout.
      await allClosed(idle, 'the idle sockets to be closed by the headers timeout');
      await allClosed(slow, 'the slow sockets to be closed by the headers timeout');
    } finally {
      clearInterval(drip);
      for (const { socket } of [...idle, ...slow]) socket.destroy();
    }
    expect((await td.call('ListServices', { pagination: { pageSize: 100 } })).body.services).toHaveLength(20);

    // A body that never ends: closed by the request timeout.
    const body = openSocket(url);
    body.socket.write(`POST /${AUTOMATION}/ListServices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${td.daemon.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
    const drop = setInterval(() => !body.socket.destroyed && body.socket.write(' '), 50);
    await allClosed([body], 'the socket whose body never ends to be closed by the request timeout').finally(() => clearInterval(drop));

    // A kept-alive connection that stays idle after its answer: closed by the keep-alive timeout.
    const kept = openSocket(url);
    const answered = new Promise<string>((resolve) => kept.socket.once('data', (chunk) => resolve(chunk.toString())));
    kept.socket.write(`POST /${AUTOMATION}/ListServices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${td.daemon.token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);
    await allClosed([kept], 'the kept-alive socket to be closed by the keep-alive timeout');
  });

  it('never evicts a connection that made an authenticated call before one that had the time to and did not', async () => {
    // No grace: every socket of the flood has had its time to make a call.
    const td = await startTestDaemon({ serverLimits: { ...limits, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000, arrivalGraceMs: 0 } });
    const url = td.daemon.info.url;
    // A trusted kept-alive connection, then a flood far past the cap.
    const trusted = openSocket(url);
    const answered = new Promise<string>((resolve) => trusted.socket.once('data', (chunk) => resolve(chunk.toString())));
    trusted.socket.write(`POST /${AUTOMATION}/ListServices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${td.daemon.token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);
    const flood = Array.from({ length: 120 }, () => openSocket(url));
    try {
      await waitFor(() => flood.filter(({ socket }) => socket.destroyed).length >= 120 - limits.maxConnections, { what: 'the flood to be cut to the cap' });
      expect(trusted.socket.destroyed).toBe(false);
      const again = new Promise<string>((resolve) => trusted.socket.once('data', (chunk) => resolve(chunk.toString())));
      trusted.socket.write(`POST /${AUTOMATION}/ListServices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${td.daemon.token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
      expect(await again).toMatch(/^HTTP\/1\.1 200/);
      // A new caller with the token still gets in: the oldest untrusted connection makes room.
      expect((await td.call('ListServices', {})).status).toBe(200);
    } finally {
      for (const { socket } of [...flood, trusted]) socket.destroy();
    }
  });

  it('lets a client open several connections at once while the cap is full of idle kept-alive ones: none closes another before its call is read', async () => {
    const td = await startTestDaemon({ serverLimits: { ...limits, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000, arrivalGraceMs: 60_000 } });
    const url = td.daemon.info.url;
    const request = `POST /${AUTOMATION}/ListServices HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${td.daemon.token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
    const call = (opened: Opened) => {
      const answered = new Promise<string>((resolve) => {
        opened.socket.once('data', (chunk) => resolve(chunk.toString()));
        opened.socket.once('close', () => resolve(`closed: ${opened.events.join(', ')}`));
      });
      opened.socket.write(request);
      return answered;
    };
    const kept: Opened[] = [];
    const burst: Opened[] = [];
    try {
      // The cap taken by the token's idle kept-alive connections (as a Promise.all of calls leaves them).
      for (let index = 0; index < limits.maxConnections; index++) {
        const opened = openSocket(url);
        kept.push(opened);
        expect(await call(opened)).toMatch(/^HTTP\/1\.1 200/);
      }
      // A client opens 16 connections at once, each sending its call as soon as it can.
      burst.push(...Array.from({ length: 16 }, () => openSocket(url)));
      const answers = await Promise.all(burst.map((opened) => call(opened)));
      for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 200/);
      expect(kept.filter((opened) => opened.isClosed()).length).toBeGreaterThanOrEqual(16);
    } finally {
      for (const { socket } of [...kept, ...burst]) socket.destroy();
    }
  });

  it("makes room for a newcomer by closing the token's oldest idle kept-alive connection, never a stream that is answering", async () => {
    const td = await startTestDaemon({ serverLimits: { ...limits, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 } });
    const url = td.daemon.info.url;
    const call = (opened: Opened, path: string, body: string, type = 'application/json') => {
      const answered = new Promise<string>((resolve) => opened.socket.once('data', (chunk) => resolve(chunk.toString())));
      opened.socket.write(`POST /${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${td.daemon.token}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return answered;
    };
    // The oldest connection follows the events (answering until it ends); the rest of the cap is
    // taken by kept-alive connections of the token, each idle after its answer (as a Promise.all of calls leaves them).
    const stream = openSocket(url);
    expect(await call(stream, 'gitpod.v1.EventService/WatchEvents', JSON.stringify({ environmentId: td.daemon.info.environmentId }), 'application/jsonl')).toMatch(/^HTTP\/1\.1 200/);
    const kept: Opened[] = [];
    try {
      for (let index = 1; index < limits.maxConnections; index++) {
        const opened = openSocket(url);
        kept.push(opened);
        expect(await call(opened, `${AUTOMATION}/ListServices`, '{}')).toMatch(/^HTTP\/1\.1 200/);
      }
      // Every connection is trusted: a newcomer still gets in, and the oldest idle one made room.
      for (let index = 0; index < 3; index++) expect((await td.call('ListServices', {})).status).toBe(200);
      await waitFor(() => kept[0]!.isClosed(), { what: 'the oldest idle kept-alive connection to be closed' });
      expect(stream.isClosed()).toBe(false);
      expect(kept.filter((opened) => opened.isClosed()).length).toBeGreaterThanOrEqual(1);
      // The stream still answers: a new service shows on it.
      const seen = new Promise<string>((resolve) => stream.socket.once('data', (chunk) => resolve(chunk.toString())));
      await createService(td.client, 'after-the-cap', { start: 'true' });
      expect(await seen).toContain('RESOURCE_TYPE_SERVICE');
    } finally {
      for (const { socket } of [stream, ...kept]) socket.destroy();
    }
  });
});
