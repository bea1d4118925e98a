/**
 * What is valid in an automations file but will surprise at run time: warnings, never failures
 * (`tend validate` prints them and exits 0; the daemon logs them and `tend status` shows them).
 *   nothingStartsIt    a service or task that no trigger starts, nothing depends on, and no
 *                      command starts (`gitpod automations task start seed`)
 *   readyNeverPasses   a ready command that sleeps longer than its readiness timeout
 */
import type { AutomationsFile } from '../domain/schema.js';
import { readinessTimeoutMs } from '../domain/spec-rules.js';
import type { PathProblem } from './check-file.js';

type Warn = (file: AutomationsFile) => PathProblem[];

/** `gitpod automations service start db`, `ona automations task start seed` in a command. */
const STARTED_BY_COMMAND = /(?:gitpod|ona)\s+automations\s+(service|task)\s+start\s+([a-zA-Z0-9_-]+)/g;

const nothingStartsIt: Warn = (file) => {
  const warnings: PathProblem[] = [];
  const dependedOn = new Set(Object.values(file.tasks ?? {}).flatMap((task) => task.dependsOn ?? []));
  const commands = [
    ...Object.values(file.services ?? {}).flatMap((service) => Object.values(service.commands ?? {})),
    ...Object.values(file.tasks ?? {}).map((task) => task.command ?? ''),
  ];
  const startedByCommand = new Set(commands.flatMap((command) => [...command.matchAll(STARTED_BY_COMMAND)].map((match) => `${match[1]}s:${match[2]}`)));
  for (const kind of ['services', 'tasks'] as const) {
    for (const [key, entry] of Object.entries(file[kind] ?? {})) {
      if ((entry.triggeredBy ?? []).length > 0 || dependedOn.has(key) || startedByCommand.has(`${kind}:${key}`)) continue;
      const start = kind === 'services' ? `tend services start ${key}` : `tend tasks start ${key}`;
      warnings.push({
        path: [kind, key],
        atKey: true,
        message: `Nothing starts ${kind === 'services' ? 'service' : 'task'} "${key}": it has no triggeredBy and no task depends on it (add triggeredBy: [postDevcontainerStart], or run \`${start}\`)`,
      });
    }
  }
  return warnings;
};

/** `sleep 15`, `sleep 1.5`, `sleep 2m` as a command word: seconds, or the unit given. */
const SLEEP = /(?:^|[\s;&|(])sleep\s+(\d+(?:\.\d+)?)([smhd]?)(?=$|[\s;&|)])/g;
const SLEEP_UNIT_MS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest `sleep` of a command, in milliseconds (0 when it has none). */
export function longestSleepMs(command: string): number {
  let longest = 0;
  for (const match of command.matchAll(SLEEP)) longest = Math.max(longest, Number(match[1]) * SLEEP_UNIT_MS[match[2] ?? '']!);
  return longest;
}

const readyNeverPasses: Warn = (file) => {
  const warnings: PathProblem[] = [];
  for (const [key, service] of Object.entries(file.services ?? {})) {
    const ready = service.commands?.ready ?? '';
    const timeoutMs = readinessTimeoutMs(service.readinessTimeout, 0);
    const sleepMs = longestSleepMs(ready);
    if (timeoutMs === 0 || sleepMs <= timeoutMs) continue;
    warnings.push({
      path: ['services', key, 'commands', 'ready'],
      message: `The ready command of service "${key}" sleeps ${sleepMs / 1000}s, longer than its readinessTimeout "${service.readinessTimeout}": it can never pass (raise readinessTimeout, or shorten the sleep)`,
    });
  }
  return warnings;
};

const WARNINGS: readonly Warn[] = [nothingStartsIt, readyNeverPasses];

/** Every warning of a valid file. */
export function warnAutomationsFile(file: AutomationsFile): PathProblem[] {
  return WARNINGS.flatMap((warn) => warn(file));
}
