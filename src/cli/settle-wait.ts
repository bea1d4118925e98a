/**
 * Waiting for services to be RUNNING (or to have failed) and executions to have ended, following
 * the event stream, and saying meanwhile what it still waits for: on a terminal a block of lines
 * redrawn in place (what is still STARTING, for how long, what its ready command's last probe
 * exited with and printed); elsewhere a line whenever what a service waits for changes (and every
 * WAIT_REMINDER_MS while it does not). `timeoutMs` ends the wait early, naming what was not ready.
 */
import type { ApiClient } from '../client/api-client.js';
import type { ResourceWatch } from '../client/resource-watch.js';
import type { Service, TaskExecution } from '../domain/schema.js';
import { describeLastProbe, describeWait, formatElapsed, oneLineCommand, waitKey, type ReadinessEntry } from './daemon-facts.js';
import { FactsWatch } from './facts-watch.js';

/** How often the facts of a STARTING service are read again, and the terminal's block redrawn. */
const PROGRESS_MS = 500;
/** How often the waiting line is repeated while nothing about the wait changed (not a terminal). */
const WAIT_REMINDER_MS = 10_000;

export interface WaitTargets {
  readonly serviceIds: readonly string[];
  readonly executionIds: readonly string[];
}

export interface Settled {
  readonly services: Service[];
  readonly executions: TaskExecution[];
  /** What was not ready when the timeout ran out (empty: everything settled). */
  readonly notReady: string[];
}

/** Ended, steps and all: an execution is FAILED as soon as a step fails, while others may still run. */
export function executionEnded(execution: TaskExecution): boolean {
  return execution.metadata.completedAt !== undefined && execution.metadata.completedAt !== '';
}

/**
 * A service is settled once the session it was last asked for is RUNNING, FAILED or STOPPED
 * (an old failure does not count for a new start), or, asked to stop, once it is down.
 */
export function serviceSettled(service: Service): boolean {
  const phase = service.status.phase;
  if (service.spec.desiredPhase === 'SERVICE_PHASE_STOPPED') return phase === 'SERVICE_PHASE_STOPPED' || phase === 'SERVICE_PHASE_FAILED';
  const current = service.spec.session === undefined || service.status.session === service.spec.session;
  return current && (phase === 'SERVICE_PHASE_RUNNING' || phase === 'SERVICE_PHASE_FAILED' || phase === 'SERVICE_PHASE_STOPPED');
}

function describePending(
  watch: ResourceWatch,
  targets: WaitTargets,
  readiness: readonly ReadinessEntry[],
  since: Map<string, number>,
  now: number,
): string[] {
  const lines: string[] = [];
  for (const id of targets.serviceIds) {
    const service = watch.services.get(id);
    if (service === undefined || serviceSettled(service)) continue;
    const name = service.metadata.reference ?? id;
    const wait = readiness.find((entry) => entry.serviceId === id);
    if (wait !== undefined) {
      lines.push(`service ${name}: starting for ${formatElapsed(now - Date.parse(wait.waitingSince))}; ready command "${oneLineCommand(wait.readyCommand)}": ${describeLastProbe(wait)}`);
    } else {
      lines.push(`service ${name}: ${service.status.phase?.replace('SERVICE_PHASE_', '').toLowerCase() ?? 'unknown'} for ${formatElapsed(now - (since.get(id) ?? now))}`);
    }
  }
  for (const id of targets.executionIds) {
    const execution = watch.executions.get(id);
    if (execution === undefined || executionEnded(execution)) continue;
    const name = watch.tasks.get(execution.metadata.taskId)?.metadata.reference ?? execution.metadata.taskId;
    const started = execution.metadata.startedAt === undefined ? (since.get(id) ?? now) : Date.parse(execution.metadata.startedAt);
    lines.push(`task ${name}: ${execution.status.phase.replace('TASK_EXECUTION_PHASE_', '').toLowerCase()} for ${formatElapsed(now - started)}`);
  }
  return lines;
}

/** A ready command that passes at once says nothing; one that is slow, or failed a probe, does. */
const SLOW_PROBE_MS = 400;

export function worthSaying(entry: ReadinessEntry, now = Date.now()): boolean {
  return entry.lastProbe !== null || now - Date.parse(entry.waitingSince) >= SLOW_PROBE_MS;
}

export async function waitSettled(
  client: ApiClient,
  watch: ResourceWatch,
  targets: WaitTargets,
  options: { timeoutMs?: number | undefined; out?: NodeJS.WriteStream } = {},
): Promise<Settled> {
  const out = options.out ?? process.stdout;
  const live = out.isTTY === true;
  const since = new Map([...targets.serviceIds, ...targets.executionIds].map((id) => [id, Date.now()]));
  const pending = (): boolean =>
    targets.serviceIds.some((id) => {
      const service = watch.services.get(id);
      return service !== undefined && !serviceSettled(service);
    }) ||
    targets.executionIds.some((id) => {
      const execution = watch.executions.get(id);
      return execution === undefined || !executionEnded(execution);
    });
  const facts = new FactsWatch(client, watch, { intervalMs: PROGRESS_MS, wanted: pending, ports: false });
  let drawn = 0;
  const said = new Map<string, { key: string; at: number }>();
  const show = (): void => {
    const readiness = facts.status?.readiness ?? [];
    if (live) {
      const lines = describePending(watch, targets, readiness, since, Date.now()).map((line) => `tend: waiting: ${line}`);
      out.write(`${drawn > 0 ? `\u001b[${drawn}F\u001b[J` : ''}${lines.map((line) => `${line.slice(0, Math.max(20, (out.columns || 120) - 1))}\n`).join('')}`);
      drawn = lines.length;
      return;
    }
    for (const entry of readiness) {
      if (!targets.serviceIds.includes(entry.serviceId) || !worthSaying(entry)) continue;
      const key = waitKey(entry);
      const last = said.get(entry.serviceId);
      if (last !== undefined && last.key === key && Date.now() - last.at < WAIT_REMINDER_MS) continue;
      said.set(entry.serviceId, { key, at: Date.now() });
      out.write(`tend: service ${entry.service}: ${describeWait(entry)}\n`);
    }
  };
  facts.on('change', show);
  const ticker = live ? setInterval(show, PROGRESS_MS) : undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await facts.start().catch(() => facts);
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (options.timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    const outcome = await Promise.race([watch.until(() => !pending()), timedOut]);
    const notReady = outcome === 'timeout' ? describePending(watch, targets, facts.status?.readiness ?? [], since, Date.now()) : [];
    return {
      services: targets.serviceIds.flatMap((id) => watch.services.get(id) ?? []),
      executions: targets.executionIds.flatMap((id) => watch.executions.get(id) ?? []),
      notReady,
    };
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    facts.close();
    if (live && drawn > 0) out.write(`\u001b[${drawn}F\u001b[J`);
  }
}
