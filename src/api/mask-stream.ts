/**
 * Masks secret values in a byte stream, for every log tend serves. It works on bytes, never
 * decoding: binary output and multi-byte characters split across reads pass through byte for byte
 * except where a secret occurs; a secret split across two reads is still caught (the end of a read
 * that could be the beginning of a secret waits for the next read, and only that: a follower gets
 * every other byte at once); each byte is looked at a bounded number of times, so a log without
 * newlines costs the same as one with them.
 */
import { MASK, secretNeedles } from '../domain/mask.js';

const MASK_BYTES = Buffer.from(MASK);
const EMPTY = Buffer.alloc(0);

/**
 * Masks what of `data` can be decided: every secret that starts before `limit` (such a match is
 * whole in `data`, by the caller's choice of limit). Returns the masked bytes and how many bytes
 * of `data` they stand for.
 */
function maskUpTo(data: Buffer, needles: readonly Buffer[], limit: number): { output: Buffer; consumed: number } {
  const parts: Buffer[] = [];
  const next = needles.map(() => -2);
  let position = 0;
  for (;;) {
    let best = -1;
    let length = 0;
    needles.forEach((needle, index) => {
      if (next[index]! !== -1 && next[index]! < position) next[index] = data.indexOf(needle, position);
      const at = next[index]!;
      // Longest first: at an equal start the first (longer) needle wins.
      if (at >= 0 && (best < 0 || at < best)) {
        best = at;
        length = needle.length;
      }
    });
    if (best < 0 || best >= limit) break;
    parts.push(data.subarray(position, best), MASK_BYTES);
    position = best + length;
  }
  const end = Math.max(position, Math.min(limit, data.length));
  parts.push(data.subarray(position, end));
  return { output: Buffer.concat(parts), consumed: end };
}

/** How many bytes at the end of `data` could begin a secret (and must wait for what follows). */
function pendingBytes(data: Buffer, needles: readonly Buffer[]): number {
  const longest = needles[0]?.length ?? 0;
  for (let length = Math.min(longest - 1, data.length); length > 0; length--) {
    const tail = data.subarray(data.length - length);
    if (needles.some((needle) => needle.length > length && needle.subarray(0, length).equals(tail))) return length;
  }
  return 0;
}

export async function* maskStream(chunks: AsyncIterable<Buffer>, secrets: () => readonly string[]): AsyncGenerator<Buffer> {
  let carry: Buffer = EMPTY;
  let needles: Buffer[] = [];
  for await (const chunk of chunks) {
    needles = secretNeedles(secrets()).map((needle) => Buffer.from(needle));
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    if (needles.length === 0) {
      carry = EMPTY;
      yield data;
      continue;
    }
    const { output, consumed } = maskUpTo(data, needles, data.length - pendingBytes(data, needles));
    carry = data.subarray(consumed);
    if (output.length > 0) yield output;
  }
  if (carry.length > 0) {
    needles = secretNeedles(secrets()).map((needle) => Buffer.from(needle));
    yield maskUpTo(carry, needles, carry.length).output;
  }
}
