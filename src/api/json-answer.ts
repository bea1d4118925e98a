/**
 * The JSON text of an answer. A service as the engine serves it is one object per version of
 * its document and status (the registry makes a new one on every change and never changes one it
 * handed out), so its text is made once per version and reused by every GetService and
 * ListServices that follows: under 50 clients reading the same services, most answers are a
 * concatenation of texts already made.
 */

const texts = new WeakMap<object, string>();

/** The text of an object that never changes once served (a service view): made once. */
function frozenText(value: object): string {
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    texts.set(value, text);
  }
  return text;
}

/** Keys whose values are service views (immutable once served): `service` and the list `services`. */
const CACHED_ONE = 'service';
const CACHED_MANY = 'services';

/** The answer as JSON; service views inside it are serialised once per version. */
export function answerJson(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return JSON.stringify(body);
  const record = body as Record<string, unknown>;
  if (!(CACHED_ONE in record) && !(CACHED_MANY in record)) return JSON.stringify(body);
  const parts: string[] = [];
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined) continue;
    let text: string;
    if (key === CACHED_ONE && typeof value === 'object' && value !== null) text = frozenText(value);
    else if (key === CACHED_MANY && Array.isArray(value)) text = `[${value.map((item: object) => frozenText(item)).join(',')}]`;
    else text = JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}
