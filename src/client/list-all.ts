/** Pages through a List method of the API to the end. */
export async function listAll<T>(
  call: <R>(method: string, body: unknown) => Promise<R>,
  method: string,
  key: string,
  body: Record<string, unknown> = {},
): Promise<T[]> {
  const all: T[] = [];
  let token = '';
  do {
    const page = await call<Record<string, unknown> & { pagination?: { nextToken?: string } }>(method, {
      ...body,
      pagination: { pageSize: 100, token },
    });
    all.push(...((page[key] as T[] | undefined) ?? []));
    token = page.pagination?.nextToken ?? '';
  } while (token !== '');
  return all;
}

/** The ids of one list's filter (a page's worth). */
const FILTER_IDS_MAX = 100;

/** The services of these ids (those that exist), by ListServices filtered on them, a page's worth of ids at a time. */
export async function listServicesById<T>(call: <R>(method: string, body: unknown) => Promise<R>, ids: readonly string[]): Promise<T[]> {
  const chunks = Array.from({ length: Math.ceil(ids.length / FILTER_IDS_MAX) }, (_, index) => ids.slice(index * FILTER_IDS_MAX, (index + 1) * FILTER_IDS_MAX));
  return (await Promise.all(chunks.map((chunk) => listAll<T>(call, 'ListServices', 'services', { filter: { serviceIds: chunk } })))).flat();
}
