/**
 * One row per service and per task, with what `tend ps`, `tend status` and the TUI show of it:
 * phase, pid, since when it runs (or how long the task's latest execution took), ports, exit code
 * and a one-line reason. Pure: the resources and the daemon's facts in, rows out.
 */
import type { Service, Task, TaskExecution } from '../domain/schema.js';
import { formatElapsed, portsByService, type DaemonStatus, type PortEntry } from './daemon-facts.js';
import { summarizeFailure } from './failure-reason.js';
import { shortEnum } from './table.js';

export type Tone = 'good' | 'busy' | 'bad' | 'idle';

export interface ResourceRow {
  /** `service:<id>` or `task:<id>`. */
  readonly key: string;
  readonly kind: 'service' | 'task';
  readonly id: string;
  readonly name: string;
  /** `running`, `starting`, `failed`, `succeeded`, … (`-` for a task that never ran). */
  readonly phase: string;
  readonly tone: Tone;
  readonly pid: number | null;
  /** Services: how long its process runs; tasks: how long the latest execution ran (or runs). */
  readonly uptime: string;
  readonly ports: readonly number[];
  readonly exitCode: number | null;
  /** Why it failed, in one line; what it waits for while STARTING; '' otherwise. */
  readonly reason: string;
  /** The references of what a task depends on. */
  readonly dependsOn: readonly string[];
  readonly service?: Service;
  readonly task?: Task;
  readonly execution?: TaskExecution;
}

export interface RowInput {
  readonly services: Iterable<Service>;
  readonly tasks: Iterable<Task>;
  readonly latestExecution: (taskId: string) => TaskExecution | undefined;
  readonly status?: DaemonStatus | undefined;
  readonly ports?: readonly PortEntry[];
  readonly now: number;
}

const TONES: Readonly<Record<string, Tone>> = {
  running: 'good',
  succeeded: 'good',
  starting: 'busy',
  stopping: 'busy',
  pending: 'busy',
  failed: 'bad',
};

function toneOf(phase: string): Tone {
  return TONES[phase] ?? 'idle';
}

function serviceRow(service: Service, input: RowInput, ports: Map<string, number[]>): ResourceRow {
  const phase = shortEnum(service.status.phase, 'SERVICE_PHASE_');
  const process = (input.status?.processes ?? []).find((entry) => entry.serviceId === service.id);
  const started = process?.startedAt == null ? NaN : Date.parse(process.startedAt);
  const wait = (input.status?.readiness ?? []).find((entry) => entry.serviceId === service.id);
  const failure = phase === 'failed' ? summarizeFailure(service.status.failureMessage) : null;
  let reason = failure?.line ?? '';
  if (wait !== undefined) {
    const probe = wait.lastProbe;
    reason = probe === null ? 'waiting for its ready command' : `ready command: ${probe.exitCode === null ? 'killed' : `exit ${probe.exitCode}`}${probe.output.trim() === '' ? '' : `: ${probe.output.trim().split('\n').at(-1)!.trim()}`}`;
  }
  return {
    key: `service:${service.id}`,
    kind: 'service',
    id: service.id,
    name: service.metadata.reference ?? service.id,
    phase,
    tone: toneOf(phase),
    pid: process?.pid ?? null,
    uptime: Number.isNaN(started) ? '' : formatElapsed(input.now - started),
    ports: ports.get(service.id) ?? [],
    exitCode: failure?.exitCode ?? null,
    reason,
    dependsOn: [],
    service,
  };
}

/** `1.2s`, `45s`, `3m05s`: how long an execution ran. */
function took(ms: number): string {
  return ms < 10_000 ? `${(Math.round(ms / 100) / 10).toFixed(1)}s` : formatElapsed(ms);
}

function taskRow(task: Task, input: RowInput, names: Map<string, string>): ResourceRow {
  const execution = input.latestExecution(task.id);
  const phase = execution === undefined ? '-' : shortEnum(execution.status.phase, 'TASK_EXECUTION_PHASE_');
  const startedAt = execution?.metadata.startedAt === undefined ? NaN : Date.parse(execution.metadata.startedAt);
  const completedAt = execution?.metadata.completedAt === undefined ? NaN : Date.parse(execution.metadata.completedAt);
  const uptime = Number.isNaN(startedAt) ? '' : took((Number.isNaN(completedAt) ? input.now : completedAt) - startedAt);
  const failure = execution === undefined ? null : summarizeFailure(execution.status.failureMessage ?? execution.status.steps.find((step) => step.failureMessage !== undefined)?.failureMessage);
  const exitCode = phase === 'succeeded' ? 0 : (failure?.exitCode ?? null);
  return {
    key: `task:${task.id}`,
    kind: 'task',
    id: task.id,
    name: task.metadata.reference ?? task.id,
    phase,
    tone: execution === undefined ? 'idle' : toneOf(phase),
    pid: null,
    uptime,
    ports: [],
    exitCode,
    reason: phase === 'failed' || phase === 'stopped' ? (failure?.line ?? '') : '',
    dependsOn: task.dependsOn.map((id) => names.get(id) ?? id),
    task,
    ...(execution !== undefined ? { execution } : {}),
  };
}

/** Services first, then tasks, each in the order the daemon lists them. */
export function resourceRows(input: RowInput): ResourceRow[] {
  const services = [...input.services];
  const tasks = [...input.tasks];
  const names = new Map<string, string>([
    ...services.map((service) => [service.id, service.metadata.reference ?? service.id] as const),
    ...tasks.map((task) => [task.id, task.metadata.reference ?? task.id] as const),
  ]);
  const ports = portsByService(input.ports ?? input.status?.ports ?? []);
  return [...services.map((service) => serviceRow(service, input, ports)), ...tasks.map((task) => taskRow(task, input, names))];
}
