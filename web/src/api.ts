/**
 * The page's calls: the daemon's own API methods (Connect JSON, as the SDK sends them), through
 * the dashboard's relay with the session cookie. Paths are relative to the page.
 */

export class CallError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Called when an answer says the session is gone (a restarted daemon, an expired session). */
let onLoggedOut: () => void = () => {};
export function whenLoggedOut(listener: () => void): void {
  onLoggedOut = listener;
}

export async function call<T>(service: string, method: string, body: unknown = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`api/${service}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new CallError(`Cannot reach the daemon: ${(error as Error).message}`, 'unavailable', 0);
  }
  const text = await response.text();
  if (!response.ok) {
    let code = 'unknown';
    let message = text || `HTTP ${response.status}`;
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      code = parsed.code ?? code;
      message = parsed.message ?? message;
    } catch {
      // not JSON: as it came
    }
    if (response.status === 401) onLoggedOut();
    throw new CallError(message, code, response.status);
  }
  return JSON.parse(text) as T;
}

export const automation = <T>(method: string, body: unknown = {}): Promise<T> => call<T>('gitpod.v1.EnvironmentAutomationService', method, body);
export const daemon = <T>(method: string, body: unknown = {}): Promise<T> => call<T>('tend.v1.DaemonService', method, body);

/** Every page of a List method. */
export async function listAll<T>(method: string, key: string, body: Record<string, unknown> = {}): Promise<T[]> {
  const items: T[] = [];
  let token = '';
  for (;;) {
    const page = await automation<Record<string, unknown>>(method, { ...body, pagination: { pageSize: 100, ...(token !== '' ? { token } : {}) } });
    items.push(...((page[key] as T[] | undefined) ?? []));
    token = (page.pagination as { nextToken?: string } | undefined)?.nextToken ?? '';
    if (token === '') return items;
  }
}
