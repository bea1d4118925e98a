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
