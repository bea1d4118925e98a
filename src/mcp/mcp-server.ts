/**
 * `tend mcp`: a Model Context Protocol server over stdio for coding agents, with the daemon's
 * operations as tools and its logs as resources. It talks to the workspace's daemon only through
 * its HTTP API, and ends when its stdin closes (the SDK's stdio transport does not notice that by
 * itself), stopping every wait and log follow of the session.
 */
import type { Readable, Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { serializedDaemon, type DaemonAccess, type McpContext } from './context.js';
import { registerExecutionTools } from './execution-tools.js';
import { registerFileTools } from './file-tools.js';
import { registerLogResources } from './log-resources.js';
import { registerLogTools } from './log-tools.js';
import { registerServiceTools } from './service-tools.js';
import { registerTaskTools } from './task-tools.js';

export interface McpOptions {
  /** Paths an agent gives are relative to it. */
  readonly workspace: string;
  readonly daemon: DaemonAccess;
  readonly version: string;
  readonly input?: Readable;
  /** The protocol: nothing else may be written to it. */
  readonly output?: Writable;
  /** Where the server says what it does (stderr). */
  readonly log?: (line: string) => void;
}

const INSTRUCTIONS =
  "Runs and watches this workspace's development environment (tend, from its .gitpod/automations.yaml): services (long-running: start, stop, restart, their phase and failure), tasks (run_task waits and gives the outcome, exit code and output tail), executions, triggers, logs (read_logs, and log resources to subscribe to), and the automations file (validate, apply).";

/** Serves until stdin closes (or SIGTERM/SIGINT); resolves once everything of the session stopped. */
export async function serveMcp(options: McpOptions): Promise<string> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const log = options.log ?? ((line: string) => process.stderr.write(`tend mcp: ${line}\n`));
  const closing = new AbortController();
  const server = new McpServer(
    { name: 'tend', version: options.version },
    { capabilities: { tools: {}, resources: { subscribe: true, listChanged: true } }, instructions: INSTRUCTIONS },
  );
  const context: McpContext = {
    workspace: options.workspace,
    daemon: serializedDaemon(options.daemon),
    runningDaemon: () => options.daemon.running(),
    closed: closing.signal,
    resourcesChanged: () => server.sendResourceListChanged(),
  };
  registerServiceTools(server, context);
  registerTaskTools(server, context);
  registerExecutionTools(server, context);
  registerLogTools(server, context);
  registerFileTools(server, context);
  const subscriptions = registerLogResources(server, context);

  const ended = new Promise<string>((resolve) => {
    const listeners: Array<() => void> = [];
    const on = (emitter: NodeJS.EventEmitter, event: string, why: string): void => {
      const listener = (): void => {
        for (const remove of listeners) remove();
        resolve(why);
      };
      emitter.once(event, listener);
      listeners.push(() => emitter.removeListener(event, listener));
    };
    on(input, 'end', 'stdin ended');
    on(input, 'close', 'stdin closed');
    // The client went away while an answer was being written.
    on(output, 'error', 'stdout closed');
    on(process, 'SIGTERM', 'SIGTERM');
    on(process, 'SIGINT', 'SIGINT');
  });
  await server.connect(new StdioServerTransport(input, output));
  log(`serving on stdio for ${options.workspace}`);
  // Up at once, as the environment is when an agent connects; calls wait for this start.
  context.daemon().then(
    (client) => log(`daemon at ${client.info.url} (state in ${client.stateDir})`),
    (error: Error) => log(`no daemon: ${error.message}`),
  );

  const why = await ended;
  closing.abort();
  subscriptions.close();
  await server.close();
  log(`${why}: closed`);
  return why;
}
