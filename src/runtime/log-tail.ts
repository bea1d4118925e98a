import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const TAIL_BYTES = 4096;

/** The last `maxLines` lines of a log file (at most the last 4 KiB of it); '' if unreadable. */
export function readLogTail(path: string, maxLines = 10): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    let lines = buffer.toString('utf8').split('\n');
    // A cut at the window's start leaves a partial first line: drop it.
    if (size > length) lines = lines.slice(1);
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-maxLines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/** The last `limit` bytes of a file, or '' when it cannot be read. */
export function fileTail(path: string, limit: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(limit, size));
    const read = readSync(fd, buffer, 0, buffer.length, Math.max(0, size - limit));
    return buffer.toString('utf8', 0, read);
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
