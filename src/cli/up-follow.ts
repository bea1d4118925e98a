/**
 * The foreground of `tend up` without the TUI (`--no-tui`, or stdout is not a terminal), like
 * `docker compose up`: phase changes, what a STARTING service waits for, and everyone's output
 * prefixed by name (a task's steps under readable headers), following the event stream: a
 * service's next session, an execution started later, a service added by an edit of the file all
 * show. Attached to a daemon that was already running, it shows new output only. It ends when
 * the stop it was asked for is done (Ctrl-C, SIGTERM, SIGHUP; see `shutdown.ts`), or when the
 * daemon stopped by other means (`tend down`: exit 0) or died (exit 1).
 */
import { stateFile } from '../app/state-dir.js';
import type { ApiClient } from '../client/api-client.js';
import { sectionHeader, type LogItem } from '../client/log-items.js';
import { OutputFollower, type OutputSource } from '../client/output-follower.js';
import type { ResourceChange, ResourceWatch, WatchEnd } from '../client/resource-watch.js';
import type { Service, TaskExecution } from '../domain/schema.js';
import { describeWait, waitKey } from './daemon-facts.js';
import { summarizeFailure } from './failure-reason.js';
import { FactsWatch } from './facts-watch.js';
import { executionEnded, worthSaying } from './settle-wait.js';
import { Shutdown } from './shutdown.js';
import { Prefixes, stylesFor } from './styles.js';
import { shortEnum } from './table.js';
import type { Scope } from './up-scope.js';

/** How long a task's outcome line waits for the end of its output. */
const OUTCOME_AFTER_OUTPUT_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** How often what a STARTING service waits for is read again. */
const READINESS_POLL_MS = 250;

/** A line to stdout; a closed terminal (SIGHUP) must not end `tend up` before the stop is done. */
function writeLine(line: string): void {
  if (process.stdout.writable) process.stdout.write(`${line}\n`);
}

/** What the end of a foreground means for the user, in one line, and its exit code. */
export function describeEnd(end: WatchEnd, stateDir: string): { line: string; code: number } {
  if (end === 'stopped') return { line: 'tend: the daemon was stopped (`tend down`): everything it ran is stopped', code: 0 };
  return {
    line: `tend: the daemon exited unexpectedly (its log: ${stateFile.daemonLog(stateDir)}): \`tend up\` starts it again and takes over what it left running`,
    code: 1,
  };
}

export async function followPlain(client: ApiClient, watch: ResourceWatch, scope: Scope, options: { attached: boolean }): Promise<number> {
  process.stdout.on('error', () => {
    // The terminal went away (SIGHUP): the stop goes on without it.
  });
  const names = [...watch.services.values(), ...watch.tasks.values()].map((resource) => resource.metadata.reference ?? resource.id);
  const prefixes = new Prefixes(stylesFor(process.stdout), ['tend', ...names]);
  const say = (line: string): void => writeLine(line.startsWith('tend: ') ? `${prefixes.prefix('tend')}${line.slice(6)}` : line);
  const shutdown = new Shutdown(client, (line) => say(line)).listen();

  const print = (source: OutputSource, item: LogItem): void => {
    if (item.kind === 'line') writeLine(`${prefixes.prefix(item.section ?? source.name)}${item.text}`);
    else writeLine(`${prefixes.prefix(item.title)}${sectionHeader(item)}`);
  };
  const outputs = new OutputFollower(watch, {
    includeService: (service) => scope.hasService(service),
    includeExecution: (execution) => scope.hasExecution(execution),
    // Just started: the output of what `tend up` started, from its start. Attached: new output only.
    initial: (source) => (!options.attached && scope.started(source.id) ? 'all' : 'new'),
    onItem: print,
    compact: true,
  });

  const phases = new Map<string, string>();
  const phaseLine = (change: ResourceChange): void => {
    if (change.kind === 'service' && scope.hasService(change.service)) servicePhase(change.service);
    if (change.kind === 'execution' && scope.hasExecution(change.execution)) executionPhase(change.execution);
  };
  const servicePhase = (service: Service): void => {
    const phase = shortEnum(service.status.phase, 'SERVICE_PHASE_');
    if (phases.get(service.id) === phase) return;
    phases.set(service.id, phase);
    const why = phase === 'failed' ? `: ${summarizeFailure(service.status.failureMessage)?.line ?? ''}` : '';
    say(`tend: service ${service.metadata.reference ?? service.id}: ${phase}${why}`);
  };
  const executionPhase = (execution: TaskExecution): void => {
    const phase = shortEnum(execution.status.phase, 'TASK_EXECUTION_PHASE_');
    if (phases.get(execution.id) === phase) return;
    phases.set(execution.id, phase);
    const name = watch.tasks.get(execution.metadata.taskId)?.metadata.reference ?? execution.metadata.taskId;
    const failure = summarizeFailure(execution.status.failureMessage);
    const line = `tend: task ${name}: ${phase}${failure === null ? '' : `: ${failure.line}`}`;
    if (isRunning(execution)) return say(line);
    // An outcome after the output it ends (the log may still be draining), as docker compose does.
    void Promise.race([outputs.logEnded(execution.status.logUrl), sleep(OUTCOME_AFTER_OUTPUT_MS)]).then(() => say(line));
  };

  const starting = (): boolean =>
    [...watch.services.values()].some((service) => scope.hasService(service) && service.status.phase === 'SERVICE_PHASE_STARTING');
  const facts = new FactsWatch(client, watch, { intervalMs: READINESS_POLL_MS, wanted: starting, ports: false });
  const waits = new Map<string, string>();
  facts.on('change', () => {
    if (shutdown.phase !== 'running') return;
    for (const entry of facts.status?.readiness ?? []) {
      const service = watch.services.get(entry.serviceId);
      if (service === undefined || !scope.hasService(service) || !worthSaying(entry)) continue;
      const key = waitKey(entry);
      if (waits.get(entry.serviceId) === key) continue;
      waits.set(entry.serviceId, key);
      say(`tend: service ${entry.service}: ${describeWait(entry)}`);
    }
  });

  for (const service of watch.services.values()) if (scope.hasService(service)) servicePhase(service);
  for (const execution of watch.executions.values()) if (scope.hasExecution(execution) && (scope.started(execution.id) || isRunning(execution))) executionPhase(execution);
  watch.on('change', phaseLine);
  outputs.start();
  await facts.start().catch(() => facts);

  const code = await Promise.race([
    shutdown.done,
    watch.ended.then(async (end) => {
      if (shutdown.phase !== 'running') return shutdown.done;
      const { line, code: exitCode } = describeEnd(end, client.stateDir);
      say(line);
      return exitCode;
    }),
  ]);
  // The stop by the rules is over (the TUI says the same as it closes); a forced one has said its line.
  if (shutdown.phase === 'stopping' && code === 0) say('tend: stopped everything by the stop rules');
  watch.off('change', phaseLine);
  outputs.stop();
  facts.close();
  watch.close();
  shutdown.release();
  return code;
}

function isRunning(execution: TaskExecution): boolean {
  return !executionEnded(execution);
}
