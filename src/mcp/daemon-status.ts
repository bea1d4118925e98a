/** The daemon's own status (tend.v1.DaemonService/GetStatus): the parts the MCP answers use. */
import { z } from 'zod';
import type { ApiClient } from '../client/api-client.js';

export interface WatchedFile {
  readonly path: string;
  /** `file:line:column: message` of each problem of the file as it is now; [] when applied. */
  readonly problems: readonly string[];
  readonly appliedHash: string | null;
  readonly reloads: number;
}

/** A port of the environment (found among a service's sockets, or recorded by `gitpod environment port open`). */
export interface EnvironmentPort {
  readonly port: number;
  readonly name: string;
  readonly url: string;
  readonly listening: boolean;
  readonly serviceId: string | null;
}

export interface DaemonStatus {
  readonly daemon: { readonly url: string; readonly workspace: string; readonly stateDir: string };
  readonly automationsFile: WatchedFile | null;
  readonly mode: string;
  readonly ports?: readonly EnvironmentPort[];
}

export function daemonStatus(client: ApiClient): Promise<DaemonStatus> {
  return client.call<DaemonStatus>('GetStatus', {}, 'tend.v1.DaemonService');
}

/** In a list's answer when the file has problems: the agent sees why what it expects is missing. */
export const FileProblems = z.object({
  path: z.string(),
  problems: z.array(z.string()).describe('file:line:column: message; the last good configuration keeps running'),
});

export function fileProblems(status: DaemonStatus): z.infer<typeof FileProblems> | undefined {
  const file = status.automationsFile;
  return file === null || file.problems.length === 0 ? undefined : { path: file.path, problems: [...file.problems] };
}

export function fileProblemsText(problems: z.infer<typeof FileProblems> | undefined): string {
  if (problems === undefined) return '';
  return `\nThe automations file ${problems.path} has problems (the last good configuration keeps running):\n${problems.problems.join('\n')}`;
}
