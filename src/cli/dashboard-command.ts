/**
 * `tend dashboard`: asks the running daemon for a one-time login URL, prints it and opens it in
 * a browser where one can be opened (`$BROWSER`, else `xdg-open` when there is a display, `open`
 * on macOS). `--url` prints only the URL, on one line. The URL carries a login code, never the
 * API token.
 */
import { spawn } from 'node:child_process';
import { resolveStateDir } from '../app/state-dir.js';
import { connect } from '../client/api-client.js';
import type { StateDirOptions } from './options.js';

export interface DashboardCommandOptions extends StateDirOptions {
  url?: boolean;
}

interface LoginUrl {
  readonly url: string;
  readonly expiresAt: string;
}

/** The command that opens a URL here, if there is one: `$BROWSER` first, as other tools do. */
export function browserCommand(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] | undefined {
  const chosen = (env.BROWSER ?? '').split(':').find((entry) => entry.trim() !== '');
  if (chosen !== undefined) return chosen.trim().split(/\s+/);
  if (platform === 'darwin') return ['open'];
  if (platform === 'linux' && ((env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== '')) return ['xdg-open'];
  return undefined;
}

/** Starts the browser and leaves it running; false when it could not be started. */
function openIn(command: string[], url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const args = command.slice(1).some((arg) => arg.includes('%s')) ? command.slice(1).map((arg) => arg.replaceAll('%s', url)) : [...command.slice(1), url];
    const child = spawn(command[0]!, args, { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

export async function runDashboard(options: DashboardCommandOptions): Promise<void> {
  const client = connect(resolveStateDir(options));
  const { url, expiresAt } = await client.call<LoginUrl>('CreateLoginCode', {}, 'tend.v1.DashboardService');
  if (options.url === true) {
    process.stdout.write(`${url}\n`);
    return;
  }
  const until = new Date(expiresAt).toLocaleTimeString();
  process.stdout.write(`Dashboard: ${url}\n(the link logs in once, until ${until}; \`tend dashboard\` makes a new one)\n`);
  const command = browserCommand(process.env, process.platform);
  if (command !== undefined && (await openIn(command, url))) {
    process.stdout.write(`Opened it with ${command[0]}\n`);
    return;
  }
  const { port, hostname } = new URL(url);
  process.stdout.write(
    `No browser can be opened from here${command === undefined ? ' (no display)' : ` (${command[0]} did not start)`}: open the link in a browser on this machine,\n` +
      `or forward the port first (ssh -L ${port}:${hostname}:${port} <this host>, or your IDE's port forwarding) and open it there\n`,
  );
}
