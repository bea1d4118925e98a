/**
 * A real terminal for a test: a tmux server of its own (a private socket, so a developer's tmux is
 * never touched) running one command in a pane of a given size. Keys go in with `send-keys` (one
 * key a call: a burst may arrive as one read), the screen comes out with `capture-pane`, and
 * `waitFor` waits for text with a deadline. The server is killed when the test finishes.
 * CI and CONTINUOUS_INTEGRATION are unset in the pane: a program must draw there as it would for
 * a person. The command runs under `sh`, which writes its exit status to a file: tmux does not
 * always reap a pane's process (it stays a zombie with no `pane_dead_status`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export interface TmuxSession {
  screen(options?: { colors?: boolean; history?: boolean }): string;
  keys(...keys: string[]): void;
  resize(columns: number, rows: number): void;
  waitFor(predicate: string | RegExp | ((screen: string) => boolean), options?: { timeoutMs?: number; history?: boolean }): Promise<string>;
  /** The exit status once the command has ended, else undefined. */
  exitStatus(): number | undefined;
  waitExit(timeoutMs?: number): Promise<number>;
  alternateScreen(): boolean;
  /** Ends the session as closing the terminal window would (the command gets SIGHUP). */
  close(): void;
}

let sessions = 0;

export function tmuxAvailable(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function tmuxSession(options: { command: readonly string[]; cwd?: string; env?: Record<string, string>; columns?: number; rows?: number }): TmuxSession {
  const socket = `tend-test-${process.pid}-${Date.now()}-${sessions++}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  const env = ['-u', 'CI', '-u', 'CONTINUOUS_INTEGRATION', '-u', 'NO_COLOR', '-u', 'FORCE_COLOR', 'TERM=xterm-256color', ...Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`)];
  const statusDir = mkdtempSync(join(tmpdir(), 'tend-tmux-'));
  const statusFile = join(statusDir, 'status');
  tmux(
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(options.columns ?? 100),
    '-y',
    String(options.rows ?? 30),
    ...(options.cwd !== undefined ? ['-c', options.cwd] : []),
    'env',
    ...env,
    `STATUS_FILE=${statusFile}`,
    'sh',
    '-c',
    '"$@"; echo $? > "$STATUS_FILE"',
    'sh',
    ...options.command,
  );
  tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
  onTestFinished(() => {
    try {
      tmux('kill-server');
    } catch {
      // Gone already.
    }
    rmSync(`/tmp/tmux-${process.getuid?.() ?? 0}/${socket}`, { force: true });
    rmSync(statusDir, { recursive: true, force: true });
  });
  const screen: TmuxSession['screen'] = ({ colors = false, history = false } = {}) =>
    tmux('capture-pane', '-t', 'main', '-p', ...(colors ? ['-e'] : []), ...(history ? ['-S', '-'] : []));
  const exitStatus = (): number | undefined => {
    if (!existsSync(statusFile)) return undefined;
    const text = readFileSync(statusFile, 'utf8').trim();
    return text === '' ? undefined : Number(text);
  };
  const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
  return {
    screen,
    keys: (...keys) => {
      for (const key of keys) tmux('send-keys', '-t', 'main', key);
    },
    resize: (columns, rows) => {
      tmux('resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows));
    },
    async waitFor(predicate, { timeoutMs = 10_000, history = false } = {}) {
      const test = typeof predicate === 'string' ? (text: string) => text.includes(predicate) : predicate instanceof RegExp ? (text: string) => predicate.test(text) : predicate;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = screen({ history });
        if (test(text)) return text;
        if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${String(predicate)}; the screen:\n${text}`);
        await sleep(25);
      }
    },
    exitStatus,
    async waitExit(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = exitStatus();
        if (status !== undefined) return status;
        if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for the command to exit; the screen:\n${screen()}`);
        await sleep(25);
      }
    },
    alternateScreen: () => tmux('display-message', '-t', 'main', '-p', '#{alternate_on}').trim() === '1',
    close: () => {
      tmux('kill-session', '-t', 'main');
    },
  };
}
