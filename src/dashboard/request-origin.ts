/**
 * Whether a request that carries the session cookie comes from the dashboard's own page. The
 * cookie's SameSite=Strict keeps other sites out, but a page on another port of the same host
 * (a dev server the user runs) is the same *site* and the browser sends it the cookie; only the
 * origin tells them apart. Browsers say where a request comes from in `Sec-Fetch-Site`, and in
 * `Origin` on every POST; either one naming another origin refuses the request.
 */
import type { IncomingHttpHeaders } from 'node:http';

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Why the request may not go on, or undefined when it may. A request that changes something
 * (`changes`) must show that it is same-origin: by `Sec-Fetch-Site: same-origin`, or (browsers
 * without Fetch Metadata) by an `Origin` equal to the `Host` it was sent to. A read is refused
 * only when the browser says it is cross-origin.
 */
export function crossOriginRefusal(headers: IncomingHttpHeaders, changes: boolean): string | undefined {
  const site = header(headers, 'sec-fetch-site');
  if (site !== undefined) {
    if (site === 'same-origin') return undefined;
    // `none`: the user typed the URL or opened a bookmark; fine for reading the page, never for a change.
    if (site === 'none' && !changes) return undefined;
    return `Refused a request from another origin (Sec-Fetch-Site: ${site}): use the dashboard's own page`;
  }
  const origin = header(headers, 'origin');
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== undefined && host === header(headers, 'host')) return undefined;
    return `Refused a request from another origin (Origin: ${origin}): use the dashboard's own page`;
  }
  return changes ? 'Refused a change without Origin or Sec-Fetch-Site: use the dashboard in a browser' : undefined;
}
