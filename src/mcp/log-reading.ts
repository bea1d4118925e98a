/**
 * Reading a log through the daemon's log endpoint, which masks secrets in every log it serves:
 * its last lines, or the lines that match a pattern. Only what is kept is held in memory.
 */
import type { ApiClient } from '../client/api-client.js';

export const DEFAULT_TAIL_LINES = 100;
export const MAX_TAIL_LINES = 2000;
/** Lines of output in a tool's answer about a task or a failed service. */
export const ANSWER_TAIL_LINES = 30;

export interface Match {
  readonly line: number;
  readonly text: string;
}

/** Calls `each` with every line of the log (without its newline), numbered from 1. */
async function eachLine(client: ApiClient, url: string, query: Record<string, string>, each: (text: string, line: number) => void, signal?: AbortSignal): Promise<void> {
  const response = await client.fetchLog(url, { ...query, follow: 'false' }, signal);
  const decoder = new TextDecoder();
  let pending = '';
  let line = 0;
  for await (const chunk of response.body ?? []) {
    const lines = (pending + decoder.decode(chunk as Uint8Array, { stream: true })).split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) each(text, ++line);
  }
  pending += decoder.decode();
  if (pending !== '') each(pending, ++line);
}

/** The last `count` lines (the endpoint cuts a service's log itself; an execution's is cut here). */
export async function tailLines(client: ApiClient, url: string, count: number, signal?: AbortSignal): Promise<string[]> {
  const kept: string[] = [];
  await eachLine(
    client,
    url,
    { tail: String(count) },
    (text) => {
      kept.push(text);
      if (kept.length > count) kept.shift();
    },
    signal,
  );
  return kept;
}

/** The last `count` lines that match, with their line numbers, and how many lines the log has. */
export async function matchingLines(client: ApiClient, url: string, pattern: RegExp, count: number): Promise<{ matches: Match[]; total: number; matched: number }> {
  const matches: Match[] = [];
  let total = 0;
  let matched = 0;
  await eachLine(client, url, {}, (text, line) => {
    total = line;
    if (!pattern.test(text)) return;
    matched += 1;
    matches.push({ line, text });
    if (matches.length > count) matches.shift();
  });
  return { matches, total, matched };
}
