/**
 * Reading /proc: each failure classified (the process is gone, or nothing can be told), and each
 * read cheap. A scan reads a few hundred small files, so a read is one open, one read into a
 * buffer kept for the purpose, and one close; `readFileSync` adds an fstat, a second read and a
 * new buffer per file (here: 1.35 ms against 0.7 ms to read the stat of 65 processes).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { procFault } from '../fault.js';

/**
 * /proc could not be read (the daemon is out of file descriptors, say): nothing can be concluded
 * about the processes, neither that they live nor that they are gone.
 */
export class ProcError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProcError';
  }
}

/** What a failed read of /proc means: the process is gone (null), or we cannot tell (ProcError). */
export function procRead<T>(path: string, read: () => T): T | null {
  try {
    procFault(path);
    return read();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    if (code === 'EACCES' || code === 'EPERM') return null;
    throw new ProcError(`Cannot read ${path}: ${code ?? (error as Error).message}`, { cause: error });
  }
}

let shared = Buffer.allocUnsafe(16 * 1024);

/**
 * A /proc file's bytes, as a view of one shared buffer: valid until the next call, so callers
 * decode it at once. A read that does not fill the buffer has reached the end: /proc's files
 * (stat, environ) hand out everything that fits in one read.
 */
export function readProcFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      const room = shared.length - length;
      const read = readSync(fd, shared, length, room, null);
      length += read;
      if (read < room) return shared.subarray(0, length);
      const bigger = Buffer.allocUnsafe(shared.length * 2);
      shared.copy(bigger, 0, 0, length);
      shared = bigger;
    }
  } finally {
    closeSync(fd);
  }
}
