/**
 * A real browser for tests: Debian's chromium driven by playwright-core, headless. CI installs
 * chromium (`.ci/run`); elsewhere a missing chromium skips the browser tests with the reason.
 * Every context a test opens is closed when the test finishes, pass or fail; the browser is
 * closed by the suite (`closeBrowser` in afterAll).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';

/** TEND_CHROMIUM when set (the only one then), else Debian's. */
const CANDIDATES = process.env.TEND_CHROMIUM !== undefined && process.env.TEND_CHROMIUM !== '' ? [process.env.TEND_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The chromium executable, if this machine has one. */
export const CHROMIUM: string | undefined = CANDIDATES.find((path) => existsSync(path));

export const NO_CHROMIUM = 'Chromium is not installed (Debian: apt-get install -y chromium; or set TEND_CHROMIUM to its path)';

export async function launchBrowser(): Promise<Browser> {
  if (CHROMIUM === undefined) throw new Error(NO_CHROMIUM);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root chromium's sandbox cannot start (playwright adds --no-sandbox unless asked not to); nothing reaches out.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

export interface TestPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the page asked for. */
  readonly requests: string[];
  /** Console errors and uncaught exceptions (a policy violation is one). */
  readonly errors: string[];
}

/** A fresh context (its own cookie jar) and page, closed when the test finishes. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, requests, errors };
}

const DEFAULT_WAIT_MS = 10_000;

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const matches = (text: string, expected: string | RegExp): boolean => (typeof expected === 'string' ? text === expected : expected.test(text));

/** Waits until the locator's text is `expected` (trimmed), or each of its elements' texts in order. */
export async function hasText(locator: Locator, expected: string | RegExp | ReadonlyArray<string | RegExp>, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  if (Array.isArray(expected)) {
    await until(
      async () => (await locator.allTextContents()).map((text) => text.trim()),
      (texts) => texts.length === expected.length && texts.every((text, index) => matches(text, expected[index]!)),
      `${String(locator)} to have the texts ${String(expected)}`,
      timeoutMs,
    );
    return;
  }
  const one = expected as string | RegExp;
  await until(async () => ((await locator.textContent({ timeout: 100 })) ?? '').trim(), (text) => matches(text, one), `${String(locator)} to have the text ${String(one)}`, timeoutMs);
}

/** Waits until the locator matches `count` elements. */
export async function hasCount(locator: Locator, count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await until(() => locator.count(), (seen) => seen === count, `${String(locator)} to match ${count} element(s)`, timeoutMs);
}
