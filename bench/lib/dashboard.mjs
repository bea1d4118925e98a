// W10: the dashboard's page on loopback, in Debian's chromium (headless, playwright-core): its
// weight as served (gzip) and the time from opening the login link to the first render of the
// services (the page's `tend:first-render` mark), with an empty cache and with a warm one.
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { median, waitFor } from './common.mjs';
import { startTend } from './systems.mjs';

const CHROMIUM = process.env.TEND_CHROMIUM || '/usr/bin/chromium';

export function chromiumAvailable() {
  return existsSync(CHROMIUM) ? null : `no chromium at ${CHROMIUM} (apt-get install chromium)`;
}

function rawGet(url) {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'accept-encoding': 'gzip' } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** The page's own files as a browser gets them: gzipped bytes on the wire, and their size unpacked. */
async function pageWeight(url) {
  const index = await rawGet(`${url}/dashboard/`);
  const { gunzipSync } = await import('node:zlib');
  const html = gunzipSync(index.body).toString();
  const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((match) => match[1]);
  let wire = index.body.length;
  let raw = Buffer.byteLength(html);
  for (const file of files) {
    const { body } = await rawGet(`${url}/dashboard/${file}`);
    wire += body.length;
    raw += gunzipSync(body).length;
  }
  return { wire, raw, files: files.length + 1 };
}

async function withServices(tend, n) {
  const ids = [];
  for (let index = 0; index < n; index++) {
    const { service } = await tend.call('CreateService', { metadata: { reference: `s${index}`, name: `Service ${index}` }, spec: { commands: { start: 'exec sleep 3600' } } });
    ids.push(service.id);
  }
  for (let index = 0; index < 5; index++) {
    const { task } = await tend.call('CreateTask', { metadata: { reference: `t${index}` }, spec: { command: `echo task ${index}` } });
    await tend.call('StartTask', { id: task.id });
  }
  await Promise.all(ids.map((id) => tend.call('StartService', { id })));
  await waitFor('the services RUNNING', async () => (await tend.listAll('ListServices', 'services')).every((service) => service.status.phase === 'SERVICE_PHASE_RUNNING'), { intervalMs: 20 });
}

async function firstRender(page) {
  await page.waitForFunction(() => performance.getEntriesByName('tend:first-render').length > 0, null, { timeout: 30_000 });
  return page.evaluate(() => ({
    render: performance.getEntriesByName('tend:first-render')[0].startTime,
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
  }));
}

/** `{weight, cold: {render, paint}[], warm: {render}[]}` for a daemon with `n` running services. */
export async function dashboardLoad(n, repeat) {
  const { chromium } = await import('playwright-core');
  const tend = await startTend();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    await withServices(tend, n);
    const weight = await pageWeight(tend.url);
    const cold = [];
    const warm = [];
    for (let index = 0; index < repeat; index++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const page = await context.newPage();
        const { url } = await tend.call('CreateLoginCode', {}, 'tend.v1.DashboardService');
        await page.goto(url);
        cold.push(await firstRender(page));
        await page.reload();
        warm.push(await firstRender(page));
      } finally {
        await context.close();
      }
    }
    return { weight, cold, warm, median };
  } finally {
    await browser.close();
    await tend.stop();
  }
}
