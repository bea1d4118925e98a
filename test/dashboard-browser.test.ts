/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core, against
 * a real daemon on loopback with a watched automations file. Skipped with the reason where chromium
 * is missing; in CI a missing chromium fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CHROMIUM, hasCount, hasText, launchBrowser, NO_CHROMIUM, openPage } from './helpers/browser.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { loginUrl } from './helpers/dashboard.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

const WAIT_MS = 10_000;

// What the functions given to page.evaluate find in the page (the tests' tsconfig has no DOM types).
declare const document: any;
declare function getComputedStyle(element: unknown): any;

function automationsFile(dir: string): string[] {
  return [
    'services:',
    '  web:',
    '    name: Web server',
    `    commands: {start: "echo serving; exec sleep 60", ready: "test -f ${join(dir, 'ready')}"}`,
    'tasks:',
    '  greet:',
    `    command: "printf '\\\\033[32mhello from greet\\\\033[0m\\\\n\\\\033[38;5;208morange\\\\033[0m\\\\n'"`,
    '  build:',
    '    command: "echo building the thing"',
    '    dependsOn: [greet]',
    '  wait:',
    '    command: "exec sleep 60"',
  ];
}

async function dashboardDaemon(options: Parameters<typeof startTestDaemon>[0] = {}): Promise<TestDaemon & { file: string; dir: string }> {
  const dir = tempDir();
  const workspace = join(dir, 'workspace');
  mkdirSync(join(workspace, '.gitpod'), { recursive: true });
  const file = join(workspace, '.gitpod', 'automations.yaml');
  writeFileSync(file, `${automationsFile(dir).join('\n')}\n`);
  const test = await startTestDaemon({ workspace, stateDir: join(dir, 'state'), automationsFile: file, reloadDebounceMs: 10, ...options });
  return { ...test, file, dir };
}

/** Logs in through the URL `tend dashboard` would open; the page then shows the services. */
async function logIn(page: Page, test: TestDaemon): Promise<void> {
  const response = await page.goto(await loginUrl(test));
  expect(response?.status()).toBe(200);
  expect(new URL(page.url()).pathname).toBe('/dashboard/');
  await page.getByRole('listitem', { name: 'Service web' }).waitFor({ timeout: WAIT_MS });
}

const item = (page: Page, name: string) => page.getByRole('listitem', { name, exact: true });

if (CHROMIUM === undefined && process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
  it('has a browser to test the dashboard in', () => {
    throw new Error(`${NO_CHROMIUM}: .ci/run installs it`);
  });
} else if (CHROMIUM === undefined) {
  console.warn(`Skipping the dashboard's browser tests: ${NO_CHROMIUM}`);
}

describe.skipIf(CHROMIUM === undefined)(`the dashboard in a real browser${CHROMIUM === undefined ? ` (skipped: ${NO_CHROMIUM})` : ''}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('logs in through the URL; a service goes STARTING → RUNNING once its ready command passes; Stop shows STOPPED', async () => {
    const test = await dashboardDaemon();
    const { page, requests, errors } = await openPage(browser);
    await logIn(page, test);
    const web = item(page, 'Service web');
    await web.getByText('STOPPED', { exact: true }).waitFor({ timeout: WAIT_MS });
    // What would do nothing cannot be pressed: Stop while it is down, Start while it is up.
    const button = (name: string) => web.getByRole('button', { name, exact: true });
    expect(await button('Stop').isDisabled()).toBe(true);

    await button('Start').click();
    await web.getByText('STARTING', { exact: true }).waitFor({ timeout: WAIT_MS });
    expect(await button('Start').isDisabled()).toBe(true);
    expect(await button('Stop').isDisabled()).toBe(false);
    await hasText(web.getByRole('status'), 'Asked web to start');
    writeFileSync(join(test.dir, 'ready'), '');
    await web.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    await web.getByText(/^up \d/).waitFor({ timeout: WAIT_MS });

    await web.getByRole('button', { name: 'Stop', exact: true }).click();
    await web.getByText('STOPPED', { exact: true }).waitFor({ timeout: WAIT_MS });
    await hasText(web.getByRole('status'), 'Asked web to stop');
    expect((await test.client.environments.automations.services.list({})).services[0]?.status?.phase).toBe('SERVICE_PHASE_STOPPED');

    // The session cookie is the page's scripts' to send, never to read; nothing came from elsewhere.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const origin = new URL(test.daemon.info.url).origin;
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('runs a task with Run and reads its output: colours, task sections as headers, search; Restart and Stop of an execution', async () => {
    const test = await dashboardDaemon();
    const { page, errors } = await openPage(browser);
    await logIn(page, test);

    await item(page, 'Task build').getByRole('button', { name: 'Run', exact: true }).click();
    const output = page.getByRole('log', { name: 'Output of build' });
    await output.getByText('building the thing').waitFor({ timeout: WAIT_MS });
    await hasText(item(page, 'Task build').getByRole('status').first(), 'Started build');
    // Two steps: each one a header, never the raw section lines.
    await hasText(output.getByRole('heading'), [/^greet/, /^build/]);
    await output.getByRole('heading', { name: /^build\s*success/ }).waitFor({ timeout: WAIT_MS });
    expect(await output.textContent()).not.toContain('[section-');
    // ANSI colours: a palette colour by class, a 256-colour one through CSSOM (the policy refuses style attributes).
    const green = output.getByText('hello from greet');
    expect(await green.evaluate((node) => node.className)).toBe('ansi-fg-2');
    expect(await output.getByText('orange').evaluate((node) => getComputedStyle(node).color)).toBe('rgb(255, 135, 0)');

    const search = page.getByRole('searchbox', { name: 'Search the output' });
    await search.fill('THING');
    await search.press('Enter');
    await page.getByText('1 of 1').waitFor();
    expect(await output.locator('mark').textContent()).toBe('thing');
    expect(await page.getByRole('link', { name: 'Download' }).getAttribute('href')).toMatch(/^logs\/[0-9a-f-]{36}\?follow=false&download=build-/);

    // A plan of groups: each step with its phase.
    const execution = item(page, 'Task build').getByRole('list', { name: 'Plan' });
    await hasCount(execution.getByText('SUCCEEDED'), 2);

    // Stop an execution that runs.
    await item(page, 'Task wait').getByRole('button', { name: 'Run', exact: true }).click();
    const waiting = item(page, 'Task wait').getByRole('list', { name: 'Executions of wait' }).getByRole('listitem').first();
    await waiting.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    await waiting.getByRole('button', { name: 'Stop', exact: true }).click();
    await waiting.getByText('STOPPED', { exact: true }).waitFor({ timeout: WAIT_MS });

    // Restart: stopped, then started in a new session.
    writeFileSync(join(test.dir, 'ready'), '');
    const web = item(page, 'Service web');
    await web.getByRole('button', { name: 'Start', exact: true }).click();
    await web.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    const before = (await test.client.environments.automations.services.list({})).services[0]!.status!.session;
    await web.getByRole('button', { name: 'Restart', exact: true }).click();
    await hasText(web.getByRole('status'), 'Restarted web in a new session');
    await web.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    expect((await test.client.environments.automations.services.list({})).services[0]!.status!.session).not.toBe(before);
    expect(errors).toEqual([]);
  });

  it("shows the automations file's problems with file:line:column after a bad edit, and none after the fix", async () => {
    const test = await dashboardDaemon();
    const { page } = await openPage(browser);
    await logIn(page, test);
    const problems = page.getByRole('alert');
    await hasCount(problems, 0);

    writeFileSync(test.file, 'services:\n  web:\n    commands: {start: 42, stat: "x"}\n');
    await problems.getByText(`${test.file}:3:`).first().waitFor({ timeout: WAIT_MS });
    await hasText(problems.getByRole('heading'), /has (a problem|\d+ problems)/);
    // The last good configuration keeps running: the service is still listed.
    await item(page, 'Service web').waitFor();

    writeFileSync(test.file, `${automationsFile(test.dir).join('\n')}\n`);
    await hasCount(problems, 0).catch(async (error) => { throw new Error(`${(error as Error).message}: ${await problems.allTextContents()}`); });
  });

  it('refuses a reused login code, and a change posted from another origin even with the session cookie', async () => {
    const test = await dashboardDaemon();
    const url = await loginUrl(test);
    const { page } = await openPage(browser);
    await page.goto(url);
    await item(page, 'Service web').waitFor({ timeout: WAIT_MS });

    const other = await openPage(browser);
    const reused = await other.page.goto(url);
    expect(reused?.status()).toBe(403);
    await other.page.getByText('This login link was already used or has expired: run `tend dashboard` for a new one').waitFor();
    await other.page.goto(new URL('/dashboard/', url).href);
    await other.page.getByRole('alert').getByText(/^Not logged in/).waitFor({ timeout: WAIT_MS });

    // A page on another port of the same host is the same site: the browser sends it the cookie.
    const attacker = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => attacker.close(() => done())));
    const { port } = attacker.address() as { port: number };
    await page.goto(`http://127.0.0.1:${port}/`);
    const service = (await test.client.environments.automations.services.list({})).services[0]!;
    const target = `${test.daemon.info.url}/dashboard/api/gitpod.v1.EnvironmentAutomationService/StartService`;
    // The classic forged request: a form that posts to the dashboard's API (a navigation: the browser shows the answer).
    const [response] = await Promise.all([
      page.waitForResponse(target),
      page.evaluate(
        ([url, id]) => {
          const form = document.createElement('form');
          form.method = 'POST';
          form.action = url!;
          form.enctype = 'text/plain';
          const field = document.createElement('input');
          field.name = JSON.stringify({ id }).slice(0, -1);
          field.value = '}';
          form.append(field);
          document.body.append(form);
          form.submit();
        },
        [target, service.id],
      ),
    ]);
    expect(response.status()).toBe(403);
    expect((await response.request().allHeaders()).cookie).toMatch(/^tend_session_\d+=/);
    await page.getByText('Refused a request from another origin (Sec-Fetch-Site: same-site)', { exact: false }).waitFor({ timeout: WAIT_MS });
    expect((await test.client.environments.automations.services.retrieve({ id: service.id })).service.spec?.desiredPhase).toBe('SERVICE_PHASE_STOPPED');
  });

  it('shows the API\'s error message as the outcome of an action; fires a trigger', async () => {
    const test = await dashboardDaemon({ stopTimeoutMs: 20_000 });
    const { page } = await openPage(browser);
    await logIn(page, test);
    const { service } = await test.client.environments.automations.services.create({
      metadata: { reference: 'stubborn' },
      spec: { commands: { start: "trap '' TERM; while true; do sleep 0.1; done" } },
    });
    await test.client.environments.automations.services.start({ id: service.id });
    const stubborn = item(page, 'Service stubborn');
    await stubborn.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    await test.client.environments.automations.services.delete({ id: service.id });
    onTestFinished(() => test.client.environments.automations.services.delete({ id: service.id, force: true }).then(() => undefined, () => undefined));
    await stubborn.getByText('STOPPING', { exact: true }).waitFor({ timeout: WAIT_MS });
    await stubborn.getByRole('button', { name: 'Start', exact: true }).click();
    await hasText(stubborn.getByRole('status'), 'Cannot start service "stubborn": it is being deleted');

    const triggers = page.getByRole('region', { name: 'Triggers' });
    await triggers.getByRole('combobox', { name: 'Trigger' }).selectOption('manual');
    await triggers.getByRole('button', { name: 'Fire' }).click();
    await hasText(triggers.getByRole('status'), 'Fired manual: 0 services started, 0 executions created');
  });

  it('shows the ports of a service as links, on its item and in the header: one it opened (gitpod environment port open), one it was found listening on', async () => {
    const test = await dashboardDaemon();
    const { page } = await openPage(browser);
    await logIn(page, test);
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as { port: number };
    await new Promise((done) => probe.close(done));
    const serve = `exec node -e "require('http').createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1')"`;
    const { service } = await test.client.environments.automations.services.create({
      metadata: { reference: 'site' },
      spec: { commands: { start: serve, ready: `gitpod environment port open ${port} --name site` } },
    });
    await test.client.environments.automations.services.start({ id: service.id });
    const site = item(page, 'Service site');
    await site.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    const link = site.getByRole('link', { name: `:${port}` });
    await link.waitFor({ timeout: WAIT_MS });
    expect(await link.getAttribute('href')).toBe(`http://127.0.0.1:${port}`);
    await page.getByRole('banner').getByRole('link', { name: `site :${port}` }).waitFor({ timeout: WAIT_MS });

    // A port a service listens on without recording it is found, and shows on its item too.
    const { service: quiet } = await test.client.environments.automations.services.create({
      metadata: { reference: 'quiet' },
      spec: { commands: { start: `exec node -e "require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1')"` } },
    });
    await test.client.environments.automations.services.start({ id: quiet.id });
    const listed = item(page, 'Service quiet');
    await listed.getByText('RUNNING', { exact: true }).waitFor({ timeout: WAIT_MS });
    const found = listed.getByRole('link', { name: /^:\d+$/ });
    await found.waitFor({ timeout: WAIT_MS });
    expect(await found.getAttribute('href')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('shows what a STARTING service waits for: its ready command, its readiness timeout and what the last probe said', async () => {
    const test = await dashboardDaemon();
    const { page } = await openPage(browser);
    await logIn(page, test);
    const { service } = await test.client.environments.automations.services.create({
      metadata: { reference: 'slow' },
      spec: { commands: { start: 'exec sleep 60', ready: 'echo "db not up yet"; exit 3' }, readinessTimeout: '10m' } as never,
    });
    await test.client.environments.automations.services.start({ id: service.id });
    const slow = item(page, 'Service slow');
    await slow.getByText('STARTING', { exact: true }).waitFor({ timeout: WAIT_MS });
    const wait = slow.locator('.readiness');
    await hasText(wait, /^Waiting for ready command echo "db not up yet"; exit 3 for [\d.]+ m?s \(readiness timeout 10m\): \d+ probes? so far, the last exited 3: db not up yet$/);
    await test.client.environments.automations.services.stop({ id: service.id });
    await slow.getByText('STOPPED', { exact: true }).waitFor({ timeout: WAIT_MS });
    expect(await wait.count()).toBe(0);
  });

  it('on a wide window the lists take the whole width until an output is open, then share it with the output', async () => {
    const test = await dashboardDaemon();
    const { page, errors } = await openPage(browser, { viewport: { width: 1600, height: 900 } });
    await logIn(page, test);
    const widths = () =>
      page.evaluate(() => {
        const main = document.querySelector('main.layout');
        const [lists] = [...main.querySelectorAll(':scope > .column')];
        return { main: main.getBoundingClientRect().width, lists: lists.getBoundingClientRect().width };
      }) as Promise<{ main: number; lists: number }>;
    const alone = await widths();
    // The page's padding of 1rem a side is all that is not the lists'.
    expect(alone.lists).toBeGreaterThan(alone.main - 40);
    // Run opens the task's output.
    await item(page, 'Task greet').getByRole('button', { name: 'Run', exact: true }).click();
    const output = page.getByRole('log', { name: 'Output of greet' });
    await output.waitFor({ timeout: WAIT_MS });
    const shared = await widths();
    expect(shared.lists).toBeLessThan(shared.main / 2);
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await output.waitFor({ state: 'detached', timeout: WAIT_MS });
    expect((await widths()).lists).toBeGreaterThan(alone.main - 40);
    expect(errors).toEqual([]);
  });

  it('is usable by keyboard with a visible focus, readable at 360 px, light and dark', async () => {
    const test = await dashboardDaemon();
    const light = await openPage(browser, { viewport: { width: 360, height: 800 }, colorScheme: 'light' });
    const dark = await openPage(browser, { viewport: { width: 360, height: 800 }, colorScheme: 'dark' });
    await logIn(light.page, test);
    await logIn(dark.page, test);
    const { page } = dark;

    for (const { page: shown } of [light, dark]) {
      expect(await shown.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    }
    const background = (shown: Page) => shown.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background(light.page)).not.toBe(await background(dark.page));

    await page.getByRole('region', { name: 'Services' }).waitFor();
    await page.getByRole('region', { name: 'Tasks' }).waitFor();
    // Tab to the web service's Start button, then Enter.
    const focusedName = () => page.evaluate(() => `${document.activeElement?.closest('li')?.getAttribute('aria-label')}/${document.activeElement?.textContent}`);
    await waitFor(
      async () => {
        await page.keyboard.press('Tab');
        return (await focusedName()) === 'Service web/Start';
      },
      { timeoutMs: WAIT_MS, what: 'the Start button of web to take the focus by Tab' },
    );
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement!);
      return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(outline.style).not.toBe('none');
    expect(outline.width).toBeGreaterThanOrEqual(2);
    await page.keyboard.press('Enter');
    await item(page, 'Service web').getByText('STARTING', { exact: true }).waitFor({ timeout: WAIT_MS });
    await item(light.page, 'Service web').getByText('STARTING', { exact: true }).waitFor({ timeout: WAIT_MS });
  });
});
