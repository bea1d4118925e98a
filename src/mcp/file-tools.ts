/**
 * The automations file tools. `validate_automations_file` checks a file or a text as `tend
 * validate` does (every problem with line:column). `apply_automations_file` goes the way of an
 * edit: the text is checked, written to the file the daemon watches, and the daemon's watcher
 * applies it, as it applies every save, so the file stays the one source of what runs.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { CliError } from '../client/api-client.js';
import { listAll } from '../client/list-all.js';
import { findAutomationsFile, hashText, loadAutomationsFile, parseAutomations, type LoadedAutomations } from '../config/load-file.js';
import { formatProblem, InvalidAutomationsFile } from '../config/problem.js';
import type { Service, Task } from '../domain/schema.js';
import { plural, reply } from './answers.js';
import type { McpContext } from './context.js';
import { daemonStatus, type DaemonStatus, type WatchedFile } from './daemon-status.js';
import { progressOf } from './progress.js';
import { serviceItem, ServiceItem, serviceLine } from './service-answers.js';
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS, seconds, waitUntil } from './waiting.js';

const CONTENT_NAME = '<content>';

const ProblemItem = z.object({
  line: z.number(),
  column: z.number(),
  field: z.string().describe('the field it is about, e.g. services.web.commands.start; empty for the whole file'),
  message: z.string(),
  text: z.string().describe('file:line:column: message, as `tend validate` prints it'),
});

function summary(loaded: LoadedAutomations): { services: number; tasks: number } {
  return { services: Object.keys(loaded.file.services ?? {}).length, tasks: Object.keys(loaded.file.tasks ?? {}).length };
}

/** The problems of a text, or undefined when it is valid; anything else thrown is a real error. */
function problemsOf(load: () => LoadedAutomations): { loaded: LoadedAutomations } | { error: InvalidAutomationsFile } {
  try {
    return { loaded: load() };
  } catch (error) {
    if (error instanceof InvalidAutomationsFile) return { error };
    throw error;
  }
}

function watchedFile(status: DaemonStatus): WatchedFile {
  const file = status.automationsFile;
  if (file === null) {
    throw new CliError(
      `Cannot apply an automations file: the daemon of ${status.daemon.stateDir} watches none (it runs what its control plane says, or was started without a file)`,
    );
  }
  return file;
}

/** Written next to it and renamed over it: the watcher never reads half a file. */
function writeAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.tend-new`);
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

export function registerFileTools(server: McpServer, context: McpContext): void {
  server.registerTool(
    'validate_automations_file',
    {
      title: 'Validate an automations file',
      description:
        "Checks an automations file (a path relative to the workspace; by default the workspace's .gitpod/automations.yaml) or a text, and gives every problem with its line and column. Changes nothing.",
      inputSchema: {
        path: z.string().min(1).optional().describe('the file, relative to the workspace (or absolute)'),
        content: z.string().optional().describe('the text of an automations file, instead of a path'),
      },
      outputSchema: {
        file: z.string(),
        valid: z.boolean(),
        services: z.number().optional(),
        tasks: z.number().optional(),
        problems: z.array(ProblemItem),
      },
      annotations: { readOnlyHint: true },
    },
    async ({ path, content }) => {
      if (path !== undefined && content !== undefined) throw new CliError('Cannot validate: give "path" or "content", not both');
      const file =
        content !== undefined
          ? CONTENT_NAME
          : path !== undefined
            ? isAbsolute(path)
              ? path
              : resolve(context.workspace, path)
            : findAutomationsFile(context.workspace);
      if (file === undefined) throw new CliError('No automations file found: give its path, or create .gitpod/automations.yaml', 2);
      const result = problemsOf(() => (content !== undefined ? parseAutomations(content, CONTENT_NAME) : loadAutomationsFile(file)));
      if ('loaded' in result) {
        const counts = summary(result.loaded);
        return reply(`${file} is valid: ${plural(counts.services, 'service')}, ${plural(counts.tasks, 'task')}`, { file, valid: true, ...counts, problems: [] });
      }
      const problems = result.error.problems.map((problem) => ({
        line: problem.line,
        column: problem.column,
        field: problem.path,
        message: problem.message,
        text: formatProblem(file, problem),
      }));
      return reply(`${file} has ${plural(problems.length, 'problem')}:\n${problems.map((problem) => problem.text).join('\n')}`, { file, valid: false, problems });
    },
  );

  server.registerTool(
    'apply_automations_file',
    {
      title: 'Apply the automations file',
      description:
        "Applies the workspace's automations file as a save in an editor would: with content, the text is checked (nothing is written if it has problems), written to the file the daemon watches, and applied by its watcher; without, the file as it is now. Waits until it is applied. Services whose spec changed restart; what the file no longer has is deleted.",
      inputSchema: {
        content: z.string().optional().describe('the new text of the automations file; omit it to apply the file as it is on disk'),
        timeoutSeconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(DEFAULT_WAIT_SECONDS),
      },
      outputSchema: {
        file: z.string(),
        outcome: z.enum(['APPLIED', 'UNCHANGED', 'NOT_YET']).describe('UNCHANGED: the daemon runs this text already; NOT_YET: the watcher has not applied it within the timeout'),
        services: z.array(ServiceItem),
        tasks: z.array(z.string()).describe('the references of the tasks now'),
      },
      annotations: { destructiveHint: true },
    },
    async ({ content, timeoutSeconds }, extra) => {
      const client = await context.daemon();
      const file = watchedFile(await daemonStatus(client));
      let text: string;
      try {
        text = content ?? readFileSync(file.path, 'utf8');
      } catch (error) {
        throw new CliError(`Cannot read ${file.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const checked = problemsOf(() => parseAutomations(text, file.path));
      if ('error' in checked) throw new CliError(`${checked.error.message}\nNothing was written or applied`);
      const hash = hashText(text);
      let outcome: 'APPLIED' | 'UNCHANGED' | 'NOT_YET' = 'UNCHANGED';
      let waitedMs = 0;
      if (file.appliedHash !== hash) {
        if (content !== undefined) writeAtomically(file.path, text);
        // Applied (the daemon runs this text), or refused (a reload since, with problems).
        const settled = (status: DaemonStatus): boolean =>
          status.automationsFile?.appliedHash === hash || (status.automationsFile !== null && status.automationsFile.reloads > file.reloads && status.automationsFile.problems.length > 0);
        const waited = await waitUntil(() => daemonStatus(client), settled, {
          timeoutMs: timeoutSeconds * 1000,
          signal: AbortSignal.any([extra.signal, context.closed]),
          progress: progressOf(extra),
          describe: () => `waiting for the daemon to apply ${file.path}`,
        });
        const now = (waited.done ? waited.value : waited.last).automationsFile;
        if (waited.done && now?.appliedHash !== hash) {
          throw new CliError(`The daemon did not apply ${file.path}: the last good configuration keeps running:\n${now?.problems.join('\n') ?? ''}`);
        }
        outcome = waited.done ? 'APPLIED' : 'NOT_YET';
        waitedMs = waited.waitedMs;
        if (outcome === 'APPLIED') context.resourcesChanged();
      }
      const services = (await listAll<Service>(client.call, 'ListServices', 'services')).map((service) => serviceItem(service));
      const tasks = (await listAll<Task>(client.call, 'ListTasks', 'tasks')).map((task) => task.metadata.reference ?? task.id);
      const head = {
        APPLIED: `Applied ${file.path}`,
        UNCHANGED: `${file.path} is applied already (unchanged)`,
        NOT_YET: `The daemon has not applied ${file.path} yet after ${seconds(waitedMs)}: call apply_automations_file again (without content) to wait on. Now`,
      }[outcome];
      const lines = [`${head}: ${plural(services.length, 'service')}, ${plural(tasks.length, 'task')}`, ...services.map((service) => `  service ${serviceLine(service)}`)];
      if (tasks.length > 0) lines.push(`  tasks: ${tasks.join(', ')}`);
      return reply(lines.join('\n'), { file: file.path, outcome, services, tasks });
    },
  );
}
