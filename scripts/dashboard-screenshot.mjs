#!/usr/bin/env node
// The README's screenshot of the dashboard: `tend` on a copy of fixtures/example (its start
// triggers fired), opened through `tend dashboard --url` in Debian's chromium, headless, as the
// browser tests do. Writes docs/dashboard.png (1280 px, light) and docs/dashboard-narrow-dark.png
// (360 px, dark). Run `npm run build` first.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tend-screenshot-'));
const workspace = join(dir, 'example');
cpSync(join(root, 'fixtures/example'), workspace, { recursive: true });
const stateDir = join(dir, 'state');
const daemon = spawn(process.execPath, [cli, 'daemon', '--workspace', workspace, '--state-dir', stateDir, '--trigger', 'postEnvironmentStart', 'postDevcontainerStart'], { stdio: 'ignore' });

const until = async (what, test, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
};

let browser;
try {
  await until('the daemon', () => existsSync(join(stateDir, 'daemon.json')));
  const loginUrl = () => execFileSync(process.execPath, [cli, 'dashboard', '--url', '--state-dir', stateDir], { encoding: 'utf8' }).trim();
  browser = await chromium.launch({ executablePath: process.env.TEND_CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  for (const { file, width, colorScheme } of [
    { file: 'dashboard.png', width: 1280, colorScheme: 'light' },
    { file: 'dashboard-narrow-dark.png', width: 360, colorScheme: 'dark' },
  ]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(loginUrl());
    const item = (name) => page.getByRole('listitem', { name, exact: true });
    await item('Service api').getByText('RUNNING', { exact: true }).waitFor({ timeout: 20_000 });
    await item('Service clock').getByText('RUNNING', { exact: true }).waitFor();
    await item('Task smoke-test').getByText('SUCCEEDED', { exact: true }).first().waitFor({ timeout: 20_000 });
    await item('Task smoke-test').getByRole('button', { name: 'Output' }).first().click();
    await page.getByRole('log').getByText('api says').waitFor();
    await page.getByRole('heading', { name: /^smoke-test/ }).waitFor();
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(root, 'docs', file), fullPage: width > 400 });
    await context.close();
    console.log(`docs/${file}`);
  }
} finally {
  await browser?.close();
  daemon.kill('SIGTERM');
  await until('the daemon to stop', () => daemon.exitCode !== null || daemon.signalCode !== null, 30_000);
  rmSync(dir, { recursive: true, force: true });
}
