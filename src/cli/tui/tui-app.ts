/**
 * `tend up` on a terminal: the TUI. It follows the daemon's event stream (`ResourceWatch`), so
 * services and tasks added or started later appear and a service's output goes on across its
 * restarts (`OutputFollower`); the facts no event announces (pids, ports, what a STARTING service
 * waits for) come from `FactsWatch`. Keys (`tui-state.ts`) start, stop and restart a service, run
 * a task, stop its execution, search and scroll the output, detach, and quit, which stops
 * everything as Ctrl-C does (`shutdown.ts`: again forces). The screen is `tui-view.ts`'s pure
 * rendering, written by `screen-writer.ts` (changed rows only, at most FRAME_MS apart).
 */
import { emitKeypressEvents } from 'node:readline';
import { CliError, type ApiClient } from '../../client/api-client.js';
import { OutputFollower, type OutputSource } from '../../client/output-follower.js';
import type { ResourceWatch, WatchEnd } from '../../client/resource-watch.js';
import { describeWait, oneLineCommand } from '../daemon-facts.js';
import { oneLine } from '../failure-reason.js';
import { FactsWatch } from '../facts-watch.js';
import { resourceRows, type ResourceRow } from '../resource-rows.js';
import { serviceSettled } from '../settle-wait.js';
import { Shutdown } from '../shutdown.js';
import { stylesFor } from '../styles.js';
import { describeEnd } from '../up-follow.js';
import type { Scope } from '../up-scope.js';
import { LogBuffer } from './log-buffer.js';
import { ScreenWriter } from './screen-writer.js';
import { INITIAL_UI, onKey, type Command, type Key, type UiState } from './tui-state.js';
import { layout, renderScreen } from './tui-view.js';
import { stripAnsi } from '../terminal-text.js';

/** At most this often a frame (about 30 a second). */
const FRAME_MS = 33;
/** How often the facts no event announces are read again (pids, ports, probes). */
const FACTS_MS = 1000;
/** Uptimes tick. */
const CLOCK_MS = 1000;
/** How long an action's outcome stays on the bottom line. */
const MESSAGE_MS = 8000;
/** How much of each log there is when the TUI opens. */
const INITIAL_LINES = 1000;

export interface Terminal {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number; readonly rows?: number };
}

export interface TuiOptions {
  readonly attached: boolean;
  /** Streams other than the process's own (tests: a fake terminal). */
  readonly terminal?: Terminal;
  /** Take over SIGTERM and SIGHUP (not in tests that run a daemon in the same process). */
  readonly signals?: boolean;
}

const time = (): string => new Date().toTimeString().slice(0, 8);

export async function runTui(client: ApiClient, watch: ResourceWatch, scope: Scope, options: TuiOptions): Promise<number> {
  const { stdin, stdout } = options.terminal ?? { stdin: process.stdin, stdout: process.stdout };
  const styles = stylesFor(stdout);
  const writer = new ScreenWriter(stdout);
  const buffers = new Map<string, LogBuffer>();
  const logsSeen = new Map<string, number>();
  let ui: UiState = INITIAL_UI;
  let message: { text: string; at: number } | null = null;
  let scheduled: NodeJS.Timeout | undefined;
  let lastFrame = 0;
  let closed = false;
  let finalLine: string | null = null;

  const size = (): { columns: number; rows: number } => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const keyOf = (source: OutputSource): string => (source.kind === 'service' ? `service:${source.id}` : `task:${source.taskId}`);
  const buffer = (key: string): LogBuffer => {
    let found = buffers.get(key);
    if (found === undefined) buffers.set(key, (found = new LogBuffer()));
    return found;
  };
  const say = (text: string): void => {
    message = { text: text.replace(/^tend: /, ''), at: Date.now() };
    invalidate();
  };
  const shutdown = new Shutdown(client, (line) => {
    finalLine = line;
    say(line);
  });

  const rows = (): ResourceRow[] =>
    resourceRows({
      services: [...watch.services.values()].filter((service) => scope.hasService(service)),
      tasks: [...watch.tasks.values()].filter((task) => scope.hasTask(task)),
      latestExecution: (taskId) => watch.latestExecution(taskId),
      status: facts.status,
      ports: facts.ports,
      now: Date.now(),
    });

  const detail = (row: ResourceRow | undefined): string => {
    if (row === undefined) return '';
    if (row.kind === 'service') {
      const wait = (facts.status?.readiness ?? []).find((entry) => entry.serviceId === row.id);
      if (wait !== undefined) return describeWait(wait);
      if (row.phase === 'failed') return oneLine(row.service?.status.failureMessage ?? '');
      return `$ ${oneLineCommand(row.service?.spec.commands?.start ?? '')}`;
    }
    const failure = row.execution?.status.failureMessage;
    if (row.phase === 'failed' && failure !== undefined) return oneLine(failure);
    const deps = row.dependsOn.length === 0 ? '' : `  (after ${row.dependsOn.join(', ')})`;
    return `$ ${oneLineCommand(row.task?.spec.command ?? '')}${deps}`;
  };

  const context = (current: ResourceRow[]) => {
    const log = buffers.get(ui.selected ?? '');
    return {
      rows: current,
      logLength: log?.length ?? 0,
      pageSize: layout(size(), current.length).logRows,
      matches: (query: string) => log?.find(query, stripAnsi) ?? [],
    };
  };

  const frame = (): void => {
    scheduled = undefined;
    if (closed) return;
    lastFrame = Date.now();
    const current = rows();
    if ((ui.selected === null || !current.some((row) => row.key === ui.selected)) && current.length > 0) ui = { ...ui, selected: current[0]!.key, scroll: 0 };
    if (message !== null && Date.now() - message.at > MESSAGE_MS && shutdown.phase === 'running') message = null;
    const selected = current.find((row) => row.key === ui.selected);
    const lines = renderScreen(
      {
        workspace: facts.status?.daemon?.workspace ?? client.stateDir.replace(/\/\.tend$/, ''),
        url: client.info.url,
        rows: current,
        ui,
        log: buffers.get(ui.selected ?? ''),
        detail: detail(selected),
        message: message?.text ?? null,
        shutdown: shutdown.phase,
        styles,
      },
      size(),
    );
    writer.draw(lines);
  };
  const invalidate = (): void => {
    if (closed || scheduled !== undefined) return;
    scheduled = setTimeout(frame, Math.max(0, FRAME_MS - (Date.now() - lastFrame)));
  };

  const facts = new FactsWatch(client, watch, { intervalMs: FACTS_MS, wanted: () => !closed, ports: true });
  facts.on('change', invalidate);
  const outputs = new OutputFollower(watch, {
    includeService: (service) => scope.hasService(service),
    includeExecution: (execution) => scope.hasExecution(execution),
    initial: () => ({ tail: INITIAL_LINES }),
    compact: true,
    onLog: (source) => {
      const key = keyOf(source);
      const count = (logsSeen.get(key) ?? 0) + 1;
      logsSeen.set(key, count);
      if (count > 1) buffer(key).mark(source.kind === 'service' ? `── new session ${time()}` : `── new run ${time()}`);
    },
    onItem: (source, item) => {
      const key = keyOf(source);
      buffer(key).add(item);
      // Not following: the view stays on the same lines while more come.
      if (key === ui.selected && !ui.follow) ui = { ...ui, scroll: ui.scroll + 1 };
      if (key === ui.selected) invalidate();
    },
  });

  const act = async (command: Command): Promise<void> => {
    if (command.type === 'none') return;
    if (command.type === 'quit') return shutdown.request();
    if (command.type === 'detach') return finishWith({ code: 0, line: `tend: detached: the daemon at ${client.info.url} keeps running (\`tend up\` attaches again, \`tend down\` stops it)` });
    if (shutdown.phase !== 'running') return;
    const { row } = command;
    try {
      if (row.kind === 'service') {
        if (command.type === 'start') await client.call('StartService', { id: row.id });
        if (command.type === 'stop') await client.call('StopService', { id: row.id });
        if (command.type === 'restart') {
          say(`Restarting ${row.name}…`);
          await client.call('StopService', { id: row.id });
          await watch.refresh('service', row.id);
          await watch.until(() => {
            const service = watch.services.get(row.id);
            return service === undefined || serviceSettled(service);
          });
          await client.call('StartService', { id: row.id });
        }
        say(`${command.type === 'start' ? 'Starting' : command.type === 'stop' ? 'Stopping' : 'Restarted'} ${row.name}`);
        return;
      }
      if (command.type === 'stop') {
        const execution = row.execution;
        if (execution === undefined || !['running', 'pending'].includes(row.phase)) return say(`Task ${row.name} is not running`);
        await client.call('StopTaskExecution', { id: execution.id });
        return say(`Stopping ${row.name}`);
      }
      await client.call('StartTask', { id: row.id });
      say(`Running ${row.name}`);
    } catch (error) {
      say(error instanceof CliError ? error.message : `Cannot ${command.type} ${row.name}: ${(error as Error).message}`);
    }
  };

  const onKeypress = (sequence: string | undefined, key: Key | undefined): void => {
    // Esc and then a key within readline's escape timeout arrive as one Meta key: they were two.
    const typed = key?.sequence ?? sequence ?? '';
    if (key?.meta === true && typed.length === 2 && typed.startsWith('\u001b') && typed[1] !== '[' && typed[1] !== 'O') {
      onKeypress('\u001b', { name: 'escape', sequence: '\u001b' });
      onKeypress(typed[1], { name: typed[1]!.toLowerCase(), sequence: typed[1], shift: typed[1] !== typed[1]!.toLowerCase() });
      return;
    }
    const current = rows();
    const result = onKey(ui, { ...key, sequence: key?.sequence ?? sequence }, context(current));
    ui = result.state;
    invalidate();
    void act(result.command);
  };

  let finishWith!: (end: { code: number; line: string | null }) => void;
  const finished = new Promise<{ code: number; line: string | null }>((resolve) => (finishWith = resolve));

  const restore = (): void => {
    writer.leave();
    if (stdin.isTTY === true) stdin.setRawMode?.(false);
  };
  const onResize = (): void => {
    writer.invalidate();
    invalidate();
  };
  process.once('exit', restore);
  // A terminal that went away (SIGHUP follows: the stop goes on without it).
  stdin.on('error', () => {});
  stdout.on('error', () => {});
  writer.enter();
  emitKeypressEvents(stdin);
  if (stdin.isTTY === true) stdin.setRawMode?.(true);
  stdin.on('keypress', onKeypress);
  stdin.resume();
  stdout.on('resize', onResize);
  if (options.signals !== false) shutdown.listen();
  const clock = setInterval(invalidate, CLOCK_MS);
  outputs.start();
  await facts.start().catch(() => facts);
  invalidate();

  const end = await Promise.race([
    finished,
    shutdown.done.then((code) => ({ code, line: code === 0 ? 'tend: stopped everything by the stop rules' : finalLine })),
    watch.ended.then(async (how: WatchEnd) => {
      if (shutdown.phase !== 'running') return { code: await shutdown.done, line: shutdown.phase === 'forcing' ? finalLine : 'tend: stopped everything by the stop rules' };
      return how === 'closed' ? { code: 0, line: null } : describeEnd(how, client.stateDir);
    }),
  ]);
  closed = true;
  clearTimeout(scheduled);
  clearInterval(clock);
  stdin.off('keypress', onKeypress);
  stdin.pause();
  stdout.off('resize', onResize);
  outputs.stop();
  facts.close();
  watch.close();
  shutdown.release();
  restore();
  process.off('exit', restore);
  if (end.line !== null) stdout.write(`${end.line}\n`);
  return end.code;
}
