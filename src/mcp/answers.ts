/**
 * How tools answer: a text an agent reads (the outcome first, then what to do) and the same facts
 * as structured content, checked against the tool's output schema.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { SERVICE_PHASES, TASK_EXECUTION_PHASES } from '../domain/enums.js';
import type { ServicePhase, TaskExecutionPhase } from '../domain/schema.js';

/** Phases as agents read and give them: `RUNNING`, not `SERVICE_PHASE_RUNNING`. */
const shortNames = <P extends string>(phases: readonly P[], prefix: string) =>
  phases.filter((phase) => !phase.endsWith('_UNSPECIFIED')).map((phase) => phase.slice(prefix.length));

export const ServicePhaseName = z.enum(shortNames(SERVICE_PHASES, 'SERVICE_PHASE_') as [string, ...string[]]);
export const ExecutionPhaseName = z.enum(shortNames(TASK_EXECUTION_PHASES, 'TASK_EXECUTION_PHASE_') as [string, ...string[]]);

export function servicePhaseName(phase: ServicePhase | undefined): string {
  return (phase ?? 'SERVICE_PHASE_STOPPED').replace(/^SERVICE_PHASE_/, '');
}

export function executionPhaseName(phase: TaskExecutionPhase): string {
  return phase.replace(/^TASK_EXECUTION_PHASE_/, '');
}

export function servicePhase(name: string): ServicePhase {
  return `SERVICE_PHASE_${name}` as ServicePhase;
}

export function executionPhase(name: string): TaskExecutionPhase {
  return `TASK_EXECUTION_PHASE_${name}` as TaskExecutionPhase;
}

export const FINISHED_EXECUTION_PHASES: readonly TaskExecutionPhase[] = [
  'TASK_EXECUTION_PHASE_SUCCEEDED',
  'TASK_EXECUTION_PHASE_FAILED',
  'TASK_EXECUTION_PHASE_STOPPED',
];

/** Where `describeExit` (domain/service-lifecycle.ts) puts the output lines after a failure. */
const OUTPUT_FOLLOWS = '; last output:\n';
const ONE_LINE_CHARS = 300;

/**
 * A failure message in one line, enough for a list (the whole one is in the detail): without the
 * output lines that follow an exit, newlines of a multi-line command folded.
 */
export function firstLine(message: string | undefined): string | undefined {
  if (message === undefined || message === '') return undefined;
  const end = message.indexOf(OUTPUT_FOLLOWS);
  const line = (end < 0 ? message : message.slice(0, end)).replace(/\s*\n\s*/g, ' ');
  return line.length > ONE_LINE_CHARS ? `${line.slice(0, ONE_LINE_CHARS - 1)}…` : line;
}

export function serviceLogUri(reference: string): string {
  return `tend://logs/service/${encodeURIComponent(reference)}`;
}

export function executionLogUri(id: string): string {
  return `tend://logs/execution/${encodeURIComponent(id)}`;
}

/**
 * A step's exit: 0 when it succeeded, else the code its failure message gives (`… exited with
 * code 3`, as `describeExit` in domain/service-lifecycle.ts writes it), or the signal that
 * killed it; null when it has none (a service step, a command that never started).
 */
export function exitOf(phase: TaskExecutionPhase, failureMessage: string | undefined): { exitCode: number | null; signal?: string } {
  if (phase === 'TASK_EXECUTION_PHASE_SUCCEEDED') return { exitCode: 0 };
  // The exit is what ends the message or comes right before its output lines, not a phrase of the command.
  const exit = /(?:exited with code (\d+)|was killed by signal (\w+))(?=; last output:\n|$)/.exec(failureMessage ?? '');
  if (exit?.[1] !== undefined) return { exitCode: Number(exit[1]) };
  return exit?.[2] !== undefined ? { exitCode: null, signal: exit[2] } : { exitCode: null };
}

export function reply(text: string, structuredContent: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent };
}

export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
