/**
 * `tend mcp`: the MCP server over stdio (src/mcp/, loaded only here). The CLI decides how the
 * workspace's daemon is reached: the running one, or one started as `tend up --detach` starts it
 * (in the background, start triggers fired), which outlives the MCP session; `tend down` stops it.
 */
import { resolve } from 'node:path';
import { readDaemonInfo, resolveStateDir } from '../app/state-dir.js';
import { connect } from '../client/api-client.js';
import type { DaemonAccess } from '../mcp/context.js';
import { ensureDaemon, fire, START_TRIGGERS, type UpOptions } from './up-command.js';

export async function runMcp(options: UpOptions, version: string): Promise<void> {
  const workspace = resolve(options.workspace ?? process.cwd());
  const stateDir = resolveStateDir({ ...options, workspace });
  const daemon: DaemonAccess = {
    async ensure() {
      const { client, started } = await ensureDaemon({ ...options, workspace });
      // Unlike `tend up`, a file with problems does not stop it: the agent can see them and fix the file.
      if (started) await fire(client, START_TRIGGERS);
      return client;
    },
    running: () => (readDaemonInfo(stateDir) === undefined ? undefined : connect(stateDir)),
  };
  const { serveMcp } = await import('../mcp/mcp-server.js');
  await serveMcp({ workspace, daemon, version });
  // A daemon being started for this session (a detached process: it goes on) must not hold the exit.
  process.exit(0);
}
