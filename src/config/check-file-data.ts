/**
 * An automations file's data (parsed YAML, or UpsertAutomationsFile's `automationsFile`) checked
 * whole: its shape (`domain/file-schema.ts`, strict: unknown fields with did-you-mean, wrong types,
 * unknown triggers and roles) and the checks beyond shape (`check-file.ts`), every problem at
 * once with the path of its field. A field whose shape is wrong is not reported twice.
 */
import type { z } from 'zod';
import { FILE_ROLES, SERVICE_TRIGGERS, TRIGGER_NAMES } from '../domain/enums.js';
import { AutomationsFile, FileService, FileTask } from '../domain/file-schema.js';
import { RunsOn, ServiceCommands } from '../domain/schema.js';
import { checkAutomationsFile, type PathProblem } from './check-file.js';
import { didYouMean } from './did-you-mean.js';
import { pathText } from './problem.js';

type Path = readonly (string | number)[];

const OBJECT_KEYS: Array<[RegExp, readonly string[]]> = [
  [/^$/, ['services', 'tasks']],
  [/^services\.[^.]+$/, Object.keys(FileService.shape)],
  [/^tasks\.[^.]+$/, Object.keys(FileTask.shape)],
  [/^services\.[^.]+\.commands$/, Object.keys(ServiceCommands.shape)],
  [/^(services|tasks)\.[^.]+\.runsOn$/, Object.keys(RunsOn.shape)],
  [/^(services|tasks)\.[^.]+\.runsOn\.docker$/, ['environment', 'image']],
];

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const segment of path) value = (value as Record<string | number, unknown> | undefined)?.[segment];
  return value;
}

/** Turns one zod issue into problems the user can act on, with did-you-mean where it helps. */
function shapeProblems(issue: z.core.$ZodIssue, data: unknown): PathProblem[] {
  const path = issue.path as Path;
  const at = pathText(path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = OBJECT_KEYS.find(([pattern]) => pattern.test(at))?.[1] ?? [];
      return issue.keys.map((key) => ({
        path: [...path, key],
        atKey: true,
        message:
          at.startsWith('services.') && key === 'dependsOn'
            ? 'Unknown field "dependsOn": services have no dependencies; make a task depend on the service instead'
            : `Unknown field "${key}"${didYouMean(key, allowed)}`,
      }));
    }
    case 'invalid_value': {
      const given = valueAt(data, path);
      const isTrigger = path.includes('triggeredBy');
      if (isTrigger && path[0] === 'services' && given === 'beforeSnapshot') {
        return [{ path, message: 'Trigger "beforeSnapshot" is for tasks only: a service cannot run before a snapshot' }];
      }
      const options = isTrigger ? (path[0] === 'services' ? SERVICE_TRIGGERS : TRIGGER_NAMES) : path.at(-1) === 'role' ? FILE_ROLES : [];
      const what = isTrigger ? 'trigger' : path.at(-1) === 'role' ? 'role' : 'value';
      const list = issue.values.map((value) => `"${String(value)}"`).join(', ');
      return [{ path, message: `Unknown ${what} ${JSON.stringify(given)}${didYouMean(String(given), options.map(String))}; use one of ${list}` }];
    }
    case 'invalid_type':
      return [{ path, message: `Expected ${issue.expected === 'record' || issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${describeValue(valueAt(data, path))}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** The file when it is valid, and every problem of it. */
export function checkFileData(data: unknown): { readonly file?: AutomationsFile; readonly problems: readonly PathProblem[] } {
  const problems: PathProblem[] = [];
  const shape = AutomationsFile.safeParse(data);
  const shapePaths: string[] = [];
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      for (const problem of shapeProblems(issue, data)) {
        shapePaths.push(pathText(problem.path));
        problems.push(problem);
      }
    }
  }
  // The other checks run too, so that every problem is reported at once; a field whose shape is
  // already wrong (or that lies inside one) is not reported twice.
  const overlaps = (path: string): boolean => shapePaths.some((other) => path === other || path.startsWith(`${other}.`) || path.startsWith(`${other}[`));
  const isMapping = data !== null && typeof data === 'object' && !Array.isArray(data);
  for (const problem of isMapping ? checkAutomationsFile(data as AutomationsFile) : []) {
    if (!overlaps(pathText(problem.path))) problems.push(problem);
  }
  return problems.length > 0 || !shape.success ? { problems } : { file: shape.data, problems };
}
