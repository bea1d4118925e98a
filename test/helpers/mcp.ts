/**
 * `tend mcp` driven by the MCP SDK's own client over stdio, in a workspace of its own. When the
 * test finishes (pass or fail) the session is closed, the daemon it started is stopped with
 * `tend down`, and every process carrying the workspace's TEST_TAG is killed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { onTestFinished } from 'vitest';
import { findProcesses, sendSignal } from '../../src/runtime/machine/proc.js';
import { CLI, runCli } from './cli.js';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

export interface McpWorkspace {
  readonly dir: string;
  readonly tag: string;
  /** `tend <args> --workspace <dir>` */
  tend(...args: string[]): ReturnType<typeof runCli>;
  /** Processes (the daemon and what it runs) still carrying this workspace's tag. */
  left(): number;
}

/** A workspace with `.gitpod/automations.yaml` (none when `lines` is undefined). */
export function mcpWorkspace(lines: string[] | undefined): McpWorkspace {
  const dir = tempDir('tend-mcp-');
  if (lines !== undefined) {
    mkdirSync(join(dir, '.gitpod'));
    writeFileSync(join(dir, '.gitpod', 'automations.yaml'), `${lines.join('\n')}\n`);
  }
  const tag = randomUUID();
  const left = (): number => findProcesses([], 'TEST_TAG', tag).length;
  onTestFinished(async () => {
    await runCli(['down', '--workspace', dir]);
    for (const ref of findProcesses([], 'TEST_TAG', tag)) sendSignal(ref.pid, 'SIGKILL');
    await waitFor(() => left() === 0, { what: "the workspace's processes to be gone" });
  });
  return { dir, tag, tend: (...args) => runCli([...args, '--workspace', dir], { env: { TEST_TAG: tag } }), left };
}

export interface ToolAnswer {
  readonly text: string;
  readonly isError: boolean;
  readonly data: any;
}

export interface McpSession {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  call(name: string, args?: Record<string, unknown>): Promise<ToolAnswer>;
  stderr(): string;
}

export async function startMcp(workspace: McpWorkspace): Promise<McpSession> {
  // The SDK passes only HOME, LOGNAME, PATH, SHELL, TERM and USER unless told otherwise.
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', '--workspace', workspace.dir],
    env: { ...getDefaultEnvironment(), TEST_TAG: workspace.tag },
    cwd: workspace.dir,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'tend-test', version: '0.0.0' });
  await client.connect(transport);
  onTestFinished(async () => {
    await client.close().catch(() => {});
  });
  return {
    client,
    transport,
    stderr: () => stderr,
    async call(name, args = {}) {
      const result = await client.callTool({ name, arguments: args });
      const first = (result.content as Array<{ type: string; text?: string }>)[0];
      return { text: first?.text ?? '', isError: result.isError === true, data: result.structuredContent };
    },
  };
}
