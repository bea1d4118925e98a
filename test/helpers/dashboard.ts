/** Logging in to a test daemon's dashboard over plain HTTP (as a browser would, headers and all). */
import type { TestDaemon } from './daemon.js';

export async function loginUrl(daemon: TestDaemon): Promise<string> {
  const response = await fetch(`${daemon.daemon.info.url}/tend.v1.DashboardService/CreateLoginCode`, {
    method: 'POST',
    headers: { authorization: `Bearer ${daemon.daemon.token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (!response.ok) throw new Error(`CreateLoginCode answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { url: string }).url;
}

/** Redeems a fresh login code; returns the `Cookie` header value of the session. */
export async function login(daemon: TestDaemon): Promise<string> {
  const response = await fetch(await loginUrl(daemon), { redirect: 'manual' });
  if (response.status !== 303) throw new Error(`The login answered ${response.status}`);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** Headers of the dashboard's own page calling its API. */
export function samePage(cookie: string): Record<string, string> {
  return { cookie, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' };
}

export function pageCall(daemon: TestDaemon, cookie: string, path: string, body: unknown, headers: Record<string, string> = samePage(cookie)): Promise<Response> {
  return fetch(`${daemon.daemon.info.url}/dashboard/api/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}
