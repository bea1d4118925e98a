/**
 * A time as the API writes it (RFC 3339 in UTC with milliseconds: `2026-12-04T18:21:42.000Z`),
 * made from the UTC getters. `Date.prototype.toISOString` writes the same, but on Node 20 its first
 * call makes V8 set up the machine's time zone through ICU (its zone data and display names), about
 * 0.9 MiB of a daemon's memory that a UTC time never needs; so does `toUTCString`, which Node's
 * HTTP server calls for each response's Date header (the API writes its own, `httpDate`). Hence the
 * lint rule against both in src/ (eslint.config.js).
 */

const pad2 = (value: number): string => (value < 10 ? `0${value}` : String(value));

/** What `new Date(ms).toISOString()` gives, for every time of the years 0 to 9999. */
export function utcTime(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  // Not a time (RangeError, as toISOString throws), or a year that needs the extended form.
  // eslint-disable-next-line no-restricted-properties
  if (!(year >= 0 && year <= 9999)) return date.toISOString();
  return (
    `${String(year).padStart(4, '0')}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}` +
    `T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}.${String(date.getUTCMilliseconds()).padStart(3, '0')}Z`
  );
}

/** Now, as the API writes it. */
export const utcNow = (): string => utcTime(Date.now());

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An HTTP date (IMF-fixdate, RFC 9110 §5.6.7: `Fri, 04 Dec 2026 18:21:42 GMT`), as `toUTCString` writes it. */
export function httpDate(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  // eslint-disable-next-line no-restricted-properties
  if (!(year >= 0 && year <= 9999)) return date.toUTCString();
  return (
    `${DAYS[date.getUTCDay()]}, ${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${String(year).padStart(4, '0')} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} GMT`
  );
}
