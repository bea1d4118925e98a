/**
 * The checks of an automations file beyond its shape, as a readable pipeline of named steps. Each
 * returns problems with the path of the offending field; positions are added by the caller (the
 * YAML loader knows them; the API has none).
 */
import { findCycle } from '../domain/plan.js';
import type { AutomationsFile } from '../domain/schema.js';
import { isBlankCommand, isValidReference, readinessTimeoutProblem, runsOnProblem } from '../domain/spec-rules.js';
import { didYouMean } from './did-you-mean.js';

export interface PathProblem {
  readonly path: readonly (string | number)[];
  /** Point at the key itself rather than at its value. */
  readonly atKey?: boolean;
  readonly message: string;
}

type Check = (file: AutomationsFile) => PathProblem[];

/** The checks also run on a file whose shape is wrong (to report everything at once): they read defensively. */
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const entries = <T = any>(value: unknown): Array<[string, T]> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.entries(value).filter((entry): entry is [string, T] => entry[1] !== null && typeof entry[1] === 'object')
    : [];

const checkKeys: Check = (file) => {
  const problems: PathProblem[] = [];
  for (const kind of ['services', 'tasks'] as const) {
    for (const [key] of entries(file[kind])) {
      if (!isValidReference(key)) {
        problems.push({ path: [kind, key], atKey: true, message: `Invalid key "${key}": use 1 to 128 letters, digits, "_" or "-"` });
      }
    }
  }
  return problems;
};

const checkCommands: Check = (file) => {
  const problems: PathProblem[] = [];
  for (const [key, service] of entries(file.services)) {
    if (isBlankCommand(service.commands?.start)) {
      const where =
        service.commands?.start !== undefined
          ? { path: ['services', key, 'commands', 'start'] }
          : service.commands !== undefined
            ? { path: ['services', key, 'commands'], atKey: true }
            : { path: ['services', key], atKey: true };
      problems.push({ ...where, message: `Service "${key}" needs a non-empty commands.start` });
    }
  }
  for (const [key, task] of entries(file.tasks)) {
    if (isBlankCommand(task.command)) {
      const where = task.command === undefined ? { path: ['tasks', key], atKey: true } : { path: ['tasks', key, 'command'] };
      problems.push({ ...where, message: `Task "${key}" needs a non-empty command` });
    }
  }
  return problems;
};

const checkDurations: Check = (file) => {
  const problems: PathProblem[] = [];
  for (const [key, service] of entries(file.services)) {
    const problem = readinessTimeoutProblem(text(service.readinessTimeout));
    if (problem !== null) problems.push({ path: ['services', key, 'readinessTimeout'], message: problem });
  }
  return problems;
};

const checkDocker: Check = (file) => {
  const problems: PathProblem[] = [];
  for (const kind of ['services', 'tasks'] as const) {
    for (const [key, entry] of entries<{ runsOn?: { docker?: { image?: unknown }; machine?: unknown } }>(file[kind])) {
      const problem = runsOnProblem(entry.runsOn);
      if (problem === null) continue;
      if (problem.missing) problems.push({ path: [kind, key, 'runsOn', 'docker'], message: 'runsOn.docker needs an image' });
      else problems.push({ path: [kind, key, ...problem.field.split('.')], message: `${problem.field} ${problem.message}` });
    }
  }
  return problems;
};

const checkDependencies: Check = (file) => {
  const problems: PathProblem[] = [];
  const tasks = Object.fromEntries(entries(file.tasks));
  const services = Object.fromEntries(entries(file.services));
  const known = [...Object.keys(tasks), ...Object.keys(services)];
  const dependsOn = (key: string): string[] => list(tasks[key]?.dependsOn).filter((ref): ref is string => typeof ref === 'string');
  for (const key of Object.keys(tasks)) {
    list(tasks[key]!.dependsOn).forEach((reference, index) => {
      const path = ['tasks', key, 'dependsOn', index];
      if (typeof reference !== 'string') return;
      if (reference in tasks && reference in services) {
        problems.push({ path, message: `"${reference}" is both a task and a service: rename one of them` });
      } else if (!(reference in tasks) && !(reference in services)) {
        problems.push({ path, message: `Unknown dependency "${reference}": no task or service has this key${didYouMean(reference, known)}` });
      }
    });
  }
  const reported = new Set<string>();
  for (const key of Object.keys(tasks)) {
    const cycle = findCycle(key, (id) =>
      id in tasks ? { id, kind: 'task', label: id, dependsOn: dependsOn(id).filter((ref) => ref in tasks) } : undefined,
    );
    if (cycle === null) continue;
    const members = [...new Set(cycle)].sort().join(',');
    if (reported.has(members)) continue;
    reported.add(members);
    const first = cycle[0]!;
    const index = dependsOn(first).indexOf(cycle[1]!);
    problems.push({ path: ['tasks', first, 'dependsOn', index], message: `Dependency cycle: ${cycle.map((id) => `"${id}"`).join(' → ')}` });
  }
  return problems;
};

const CHECKS: readonly Check[] = [checkKeys, checkCommands, checkDurations, checkDocker, checkDependencies];

export function checkAutomationsFile(file: AutomationsFile): PathProblem[] {
  return CHECKS.flatMap((check) => check(file));
}
