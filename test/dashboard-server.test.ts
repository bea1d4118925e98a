/**
 * The dashboard's server side through a real daemon on loopback: login codes and sessions, the
 * origin checks, the relay to the API, the event stream, the page's files and headers.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { get, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { memoryLogger, startTestDaemon } from './helpers/daemon.js';
import { login, loginUrl, pageCall, samePage } from './helpers/dashboard.js';
import { createService, waitPhase } from './helpers/services.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

/** A JSON answer, to assert on. */
const body = (response: Response): Promise<any> => response.json();

const BUILT = resolve(import.meta.dirname, '../dist/web');
const PAGE_BUDGET_BYTES = 150 * 1024;

describe('dashboard login', () => {
  it('a login code needs the API token, logs in once with an HttpOnly SameSite=Strict cookie named after the port, and is refused again', async () => {
    const test = await startTestDaemon();
    const base = test.daemon.info.url;
    const refused = await fetch(`${base}/tend.v1.DashboardService/CreateLoginCode`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);
    expect((await body(refused)).message).toBe('A dashboard login code needs the API token: run `tend dashboard`');
    const wrong = await fetch(`${base}/tend.v1.DashboardService/CreateLoginCode`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: '{}' });
    expect(wrong.status).toBe(401);

    const url = await loginUrl(test);
    expect(url).toMatch(new RegExp(`^${base}/dashboard/login\\?code=[A-Za-z0-9_-]{32}$`));
    expect(url).not.toContain(test.daemon.token);
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('./');
    const port = new URL(base).port;
    expect(first.headers.get('set-cookie')).toMatch(new RegExp(`^tend_session_${port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200$`));

    const again = await fetch(url, { redirect: 'manual' });
    expect(again.status).toBe(403);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('This login link was already used or has expired: run `tend dashboard` for a new one');
    const made = await fetch(`${base}/dashboard/login?code=made-up`, { redirect: 'manual' });
    expect(made.status).toBe(403);
  });

  it("the dashboard's routes need the session; a logged-out session is refused", async () => {
    const test = await startTestDaemon();
    const base = test.daemon.info.url;
    for (const [path, init] of [
      ['/dashboard/events', {}],
      ['/dashboard/logs/00000000-0000-4000-8000-000000000000', {}],
      ['/dashboard/api/gitpod.v1.EnvironmentAutomationService/ListServices', { method: 'POST', body: '{}', headers: { 'sec-fetch-site': 'same-origin' } }],
    ] as const) {
      const response = await fetch(`${base}${path}`, init);
      expect(response.status, path).toBe(401);
      expect((await body(response)).message).toBe('Not logged in to the dashboard (or the session ended): run `tend dashboard` to open it again');
    }
    const cookie = await login(test);
    expect((await pageCall(test, cookie, 'gitpod.v1.EnvironmentAutomationService/ListServices', {})).status).toBe(200);
    const out = await fetch(`${base}/dashboard/logout`, { method: 'POST', headers: samePage(cookie) });
    expect(out.status).toBe(204);
    expect((await pageCall(test, cookie, 'gitpod.v1.EnvironmentAutomationService/ListServices', {})).status).toBe(401);
  });

  it('a change from another origin is refused even with the session cookie; so is one that does not say where it comes from', async () => {
    const test = await startTestDaemon();
    const cookie = await login(test);
    const id = await createService(test.client, 'web', { start: 'exec sleep 60' });
    const host = new URL(test.daemon.info.url).host;
    const path = 'gitpod.v1.EnvironmentAutomationService/StartService';
    const refusals: Array<[Record<string, string>, string]> = [
      [{ 'sec-fetch-site': 'cross-site' }, 'Refused a request from another origin (Sec-Fetch-Site: cross-site): use the dashboard\'s own page'],
      // Another port of the same host is the same site: the cookie goes with it, the origin check stops it.
      [{ 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:1' }, "Refused a request from another origin (Sec-Fetch-Site: same-site): use the dashboard's own page"],
      [{ origin: 'http://127.0.0.1:1' }, "Refused a request from another origin (Origin: http://127.0.0.1:1): use the dashboard's own page"],
      [{ origin: 'null' }, "Refused a request from another origin (Origin: null): use the dashboard's own page"],
      [{}, 'Refused a change without Origin or Sec-Fetch-Site: use the dashboard in a browser'],
    ];
    for (const [headers, message] of refusals) {
      const response = await pageCall(test, cookie, path, { id }, { cookie, 'content-type': 'application/json', ...headers });
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect((await body(response)).message).toBe(message);
    }
    expect((await test.client.environments.automations.services.retrieve({ id })).service.spec?.desiredPhase).toBe('SERVICE_PHASE_STOPPED');
    // A browser without Fetch Metadata: its Origin is the host it talks to.
    const allowed = await pageCall(test, cookie, path, { id }, { cookie, 'content-type': 'application/json', origin: `http://${host}` });
    expect(allowed.status).toBe(200);
    await waitPhase(test.client, id, 'SERVICE_PHASE_RUNNING');
  });
});

describe('dashboard relay to the API', () => {
  it("answers as the API does (bodies and errors), passes only the page's methods, streams logs", async () => {
    const test = await startTestDaemon();
    const cookie = await login(test);
    const id = await createService(test.client, 'web', { start: 'printf "\\033[31mred\\033[0m\\n"; exec sleep 60' });
    const listed = await body(await pageCall(test, cookie, 'gitpod.v1.EnvironmentAutomationService/ListServices', {}));
    expect(listed).toEqual(await test.call('ListServices', {}).then((answer) => answer.body));

    const missing = await pageCall(test, cookie, 'gitpod.v1.EnvironmentAutomationService/GetService', { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.status).toBe(404);
    expect(await body(missing)).toEqual((await test.call('GetService', { id: '00000000-0000-4000-8000-000000000000' })).body);

    const create = await pageCall(test, cookie, 'gitpod.v1.EnvironmentAutomationService/CreateService', { metadata: { reference: 'x' } });
    expect(create.status).toBe(403);
    expect((await body(create)).message).toBe('The dashboard does not call gitpod.v1.EnvironmentAutomationService/CreateService: use the API token (tend env) for it');

    expect((await pageCall(test, cookie, 'gitpod.v1.EnvironmentAutomationService/StartService', { id })).status).toBe(200);
    const running = await waitPhase(test.client, id, 'SERVICE_PHASE_RUNNING');
    const logId = running.status!.logUrl!.split('/').pop()!;
    const log = await fetch(`${test.daemon.info.url}/dashboard/logs/${logId}?follow=false&download=web`, { headers: samePage(cookie) });
    expect(log.status).toBe(200);
    expect(log.headers.get('content-disposition')).toBe('attachment; filename="web.log"');
    expect(await log.text()).toBe('\u001b[31mred\u001b[0m\n');
    const status = await body(await pageCall(test, cookie, 'tend.v1.DaemonService/GetStatus', {}));
    expect(status.daemon.environmentId).toBe(test.daemon.info.environmentId);
  });

  it('leaves the API as it was: its methods still need the token', async () => {
    const test = await startTestDaemon();
    const cookie = await login(test);
    const response = await fetch(`${test.daemon.info.url}/gitpod.v1.EnvironmentAutomationService/ListServices`, { method: 'POST', headers: samePage(cookie), body: '{}' });
    expect(response.status).toBe(401);
  });
});

describe('dashboard event stream', () => {
  it('starts with hello, then one event per change with the times the daemon saw; keep-alive comments in between', async () => {
    const test = await startTestDaemon({ dashboard: { heartbeatMs: 20 } });
    const cookie = await login(test);
    const abort = new AbortController();
    const response = await fetch(`${test.daemon.info.url}/dashboard/events`, { headers: { cookie, 'sec-fetch-site': 'same-origin' }, signal: abort.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (seen: (text: string) => boolean, timeoutMs = 10_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!seen(text)) {
        const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`Timed out; the stream so far:\n${text}`)), deadline - Date.now()));
        const { value, done } = await Promise.race([reader.read(), timer]);
        if (done) throw new Error(`The stream ended: ${text}`);
        text += value;
      }
    };
    try {
      await until((seen) => seen.includes('event: hello\ndata: {"services":{},"executions":{}}\n\n'));
      const id = await createService(test.client, 'web', { start: 'exec sleep 60' });
      await test.client.environments.automations.services.start({ id });
      await until((seen) => /"phase":"SERVICE_PHASE_RUNNING","since":\d+/.test(seen));
      expect(text).toContain(`event: resource\ndata: {"operation":"RESOURCE_OPERATION_CREATE","resourceType":"RESOURCE_TYPE_SERVICE","resourceId":"${id}"`);
      await until((seen) => seen.includes(': keep-alive\n\n'));
    } finally {
      abort.abort();
    }
  });
});

describe("the dashboard's page", () => {
  it('is built into dist/web: hashed assets cached for good, the page revalidated, a strict policy, gzip, within the budget, no token anywhere', async () => {
    const lines: string[] = [];
    const test = await startTestDaemon({ log: memoryLogger(lines).log });
    const base = test.daemon.info.url;
    expect((await fetch(`${base}/`, { redirect: 'manual' })).headers.get('location')).toBe('dashboard/');
    expect((await fetch(`${base}/`)).url).toBe(`${base}/dashboard/`);

    const index = await rawGet(`${base}/dashboard/`);
    expect(index.status).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-encoding']).toBe('gzip');
    const policy = String(index.headers['content-security-policy']);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(policy).toContain(directive);
    const html = gunzipSync(index.body).toString();
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    // Nothing inline (the policy would refuse it) and nothing from elsewhere.
    expect(html).not.toMatch(/<script>|<style|style=|https?:\/\//);

    let wire = index.body.length;
    for (const asset of assets) {
      expect(asset).toMatch(/^assets\/[\w-]+-[\w-]{8}\.(js|css|svg)$/);
      const response = await rawGet(`${base}/dashboard/${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      const body = gunzipSync(response.body);
      expect(body.equals(readFileSync(join(BUILT, asset)))).toBe(true);
      expect(body.toString()).not.toContain(test.daemon.token);
      wire += response.body.length;
    }
    expect(readdirSync(join(BUILT, 'assets')).sort()).toEqual(assets.map((asset) => asset.slice('assets/'.length)).sort());
    expect(wire).toBeLessThan(PAGE_BUDGET_BYTES);
    expect((await fetch(`${base}/dashboard/assets/nothing.js`)).status).toBe(404);

    await loginUrl(test).then((url) => fetch(url, { redirect: 'manual' }));
    const logged = lines.join('\n');
    expect(logged).not.toContain(test.daemon.token);
    expect(logged).not.toContain('code=');
  });
});

/** A GET as a browser sends it (gzip accepted), with the bytes as they came over the wire. */
function rawGet(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolvePromise, reject) => {
    get(url, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolvePromise({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

describe('tend dashboard', () => {
  it('--url prints only the login URL; without --url it opens $BROWSER with it, or says how to open it where no browser can be opened', async () => {
    const test = await startTestDaemon();
    const env = { DISPLAY: '', WAYLAND_DISPLAY: '', BROWSER: '' };
    const printed = await runCli(['dashboard', '--url', '--state-dir', test.stateDir], { env });
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`^${test.daemon.info.url}/dashboard/login\\?code=[A-Za-z0-9_-]{32}\\n$`));
    expect((await fetch(printed.stdout.trim(), { redirect: 'manual' })).status).toBe(303);

    const dir = tempDir();
    const opened = join(dir, 'opened');
    const browser = join(dir, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > ${opened}\n`, { mode: 0o755 });
    const open = await runCli(['dashboard', '--state-dir', test.stateDir], { env: { ...env, BROWSER: browser } });
    expect(open.code).toBe(0);
    expect(open.stdout).toContain(`Opened it with ${browser}`);
    const url = await waitFor(() => existsSync(opened) && readFileSync(opened, 'utf8'), { what: 'the browser to be given the URL' });
    expect(open.stdout).toContain(`Dashboard: ${url}\n`);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(303);

    const headless = await runCli(['dashboard', '--state-dir', test.stateDir], { env });
    const { port } = new URL(test.daemon.info.url);
    expect(headless.code).toBe(0);
    expect(headless.stdout).toContain(`No browser can be opened from here (no display): open the link in a browser on this machine,\nor forward the port first (ssh -L ${port}:127.0.0.1:${port} <this host>`);
    expect(headless.stdout).not.toContain(test.daemon.token);
  });

  it('says so when no daemon runs', async () => {
    const result = await runCli(['dashboard', '--url', '--state-dir', join(tempDir(), 'state')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^tend: No tend daemon is running for state directory .*: `tend up` starts one\n$/);
  });
});
