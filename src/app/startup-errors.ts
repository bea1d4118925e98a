/**
 * What a person meets when a daemon cannot start, in one line with what to do: never a stack
 * trace for a state database that is damaged, a port that is taken, or a state directory that
 * cannot be written.
 */
import { StateLayout } from '../domain/state-layout.js';

export function startupProblem(error: unknown, context: { stateDir: string; listen: string }): string | undefined {
  const code = (error as { code?: string }).code ?? '';
  const store = new StateLayout(context.stateDir).store;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return `The state database ${store} is damaged (${(error as Error).message}): move it aside to start afresh and keep it for a look, with \`mv ${store} ${store}.damaged\``;
  }
  if (code === 'EADDRINUSE') {
    return `Cannot listen on ${context.listen}: the port is in use; choose another with --listen HOST:PORT (port 0 picks a free one)`;
  }
  if (code === 'EADDRNOTAVAIL') return `Cannot listen on ${context.listen}: this machine has no such address; give one of its own with --listen HOST:PORT`;
  if (['EACCES', 'EROFS', 'EPERM', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'SQLITE_READONLY', 'SQLITE_CANTOPEN'].includes(code)) {
    const what = (error as Error).message;
    return `Cannot write to the state directory ${context.stateDir} (${what}): make it writable, or choose another with --state-dir or TEND_STATE_DIR`;
  }
  return undefined;
}
