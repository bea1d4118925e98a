/** `read_logs`: the tail of a service's or an execution's log, or its lines that match a pattern. */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { CliError, type ApiClient } from '../client/api-client.js';
import { findService, findTask } from '../client/lookups.js';
import type { TaskExecution } from '../domain/schema.js';
import { executionLogUri, plural, reply, serviceLogUri } from './answers.js';
import type { McpContext } from './context.js';
import { getExecution } from './execution-outcome.js';
import { DEFAULT_TAIL_LINES, matchingLines, MAX_TAIL_LINES, tailLines } from './log-reading.js';

export interface LogTarget {
  /** `service "web"`, `execution 1f…`. */
  readonly title: string;
  readonly uri: string;
  /** Where the daemon serves it; undefined when it has not run yet. */
  readonly url: string | undefined;
}

const present = (url: string | undefined): string | undefined => (url === undefined || url === '' ? undefined : url);

export async function serviceLog(client: ApiClient, name: string): Promise<LogTarget> {
  const service = await findService(client, name);
  const reference = service.metadata.reference ?? service.id;
  return { title: `service "${reference}"`, uri: serviceLogUri(reference), url: present(service.status.logUrl) };
}

export async function executionLog(client: ApiClient, id: string): Promise<LogTarget> {
  const execution = await getExecution(client, id);
  return { title: `execution ${execution.id}`, uri: executionLogUri(execution.id), url: present(execution.status.logUrl) };
}

async function latestExecutionLog(client: ApiClient, name: string): Promise<LogTarget> {
  const task = await findTask(client, name);
  const { taskExecutions } = await client.call<{ taskExecutions?: TaskExecution[] }>('ListTaskExecutions', {
    filter: { taskIds: [task.id] },
    pagination: { pageSize: 1 },
  });
  const latest = taskExecutions?.[0];
  if (latest === undefined) throw new CliError(`Task "${name}" has not run yet: it has no log`);
  return { title: `execution ${latest.id} of task "${task.metadata.reference ?? task.id}"`, uri: executionLogUri(latest.id), url: present(latest.status.logUrl) };
}

function compile(pattern: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(pattern, ignoreCase ? 'i' : '');
  } catch (error) {
    throw new CliError(`Invalid pattern "${pattern}": ${(error as Error).message}`);
  }
}

export function registerLogTools(server: McpServer, context: McpContext): void {
  server.registerTool(
    'read_logs',
    {
      title: 'Read a log',
      description:
        "Reads the log of a service (its current or last run), of an execution, or of a task's latest execution: its last lines, or the lines matching a pattern. Secrets are masked.",
      inputSchema: {
        service: z.string().min(1).optional().describe('a service: its reference or id'),
        execution: z.string().min(1).optional().describe('an execution id'),
        task: z.string().min(1).optional().describe("a task (reference or id): its latest execution's log"),
        tailLines: z.number().int().min(1).max(MAX_TAIL_LINES).default(DEFAULT_TAIL_LINES).describe('the last this many lines (or matches, with a pattern)'),
        pattern: z.string().min(1).optional().describe('only lines matching this regular expression (JavaScript syntax), with their line numbers'),
        ignoreCase: z.boolean().default(false).describe('match the pattern regardless of case'),
      },
      outputSchema: {
        log: z.string().describe('whose log it is'),
        logUri: z.string(),
        lines: z.array(z.string()).optional().describe('the last lines (without a pattern)'),
        matches: z.array(z.object({ line: z.number(), text: z.string() })).optional().describe('the last matching lines (with a pattern)'),
        totalLines: z.number().optional(),
        matchedLines: z.number().optional(),
      },
      annotations: { readOnlyHint: true },
    },
    async ({ service, execution, task, tailLines: count, pattern, ignoreCase }) => {
      const given = [service, execution, task].filter((value) => value !== undefined).length;
      if (given !== 1) throw new CliError('Cannot read a log: give exactly one of "service", "execution" or "task"');
      const regex = pattern === undefined ? undefined : compile(pattern, ignoreCase);
      const client = await context.daemon();
      const target =
        service !== undefined ? await serviceLog(client, service) : execution !== undefined ? await executionLog(client, execution) : await latestExecutionLog(client, task!);
      if (target.url === undefined) {
        throw new CliError(`${target.title.charAt(0).toUpperCase()}${target.title.slice(1)} has not run yet: it has no log`);
      }
      if (regex === undefined) {
        const lines = await tailLines(client, target.url, count);
        const text = lines.length === 0 ? `The log of ${target.title} is empty` : [`Last ${plural(lines.length, 'line')} of ${target.title}:`, ...lines].join('\n');
        return reply(text, { log: target.title, logUri: target.uri, lines });
      }
      const { matches, total, matched } = await matchingLines(client, target.url, regex, count);
      const shown = matches.length < matched ? ` (the last ${matches.length} shown)` : '';
      const head = `${plural(matched, 'line')} of ${total} in the log of ${target.title} match /${pattern}/${ignoreCase ? 'i' : ''}${shown}`;
      const text = [head, ...matches.map((match) => `${match.line}: ${match.text}`)].join('\n');
      return reply(text, { log: target.title, logUri: target.uri, matches, totalLines: total, matchedLines: matched });
    },
  );
}
