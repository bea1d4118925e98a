/**
 * The API's checks of a service's or task's spec, worded for the request's fields. The rules are
 * the automations file's (`domain/spec-rules.ts`), so the two surfaces accept the same specs.
 */
import { invalidArgument } from '../domain/errors.js';
import type { EnvironmentVariableItem, RunsOn } from '../domain/schema.js';
import { envItemProblem, readinessTimeoutProblem, runsOnProblem } from '../domain/spec-rules.js';

/** Every item has a valid name and exactly one of `value` or `valueFrom.secretRef.id`. */
export function validateEnvItems(items: readonly EnvironmentVariableItem[] | undefined, path: string): void {
  (items ?? []).forEach((item, index) => {
    const at = `${path}[${index}]`;
    const problem = envItemProblem(item);
    if (problem === null) return;
    if (problem.field === 'name') throw invalidArgument(`Invalid "${at}.name" ${problem.message}`);
    if (problem.field === null) throw invalidArgument(`Invalid "${at}": ${problem.message}`);
    throw invalidArgument(`${problem.invalid === true ? 'Invalid' : 'Missing'} "${at}.${problem.field}": ${problem.message}`);
  });
}

export function checkReadinessTimeout(text: string | undefined): void {
  const problem = readinessTimeoutProblem(text);
  if (problem !== null) throw invalidArgument(`Invalid "spec.readinessTimeout": ${problem}`);
}

/** Where a command runs must be complete and one place (an image to run, for Docker). */
export function checkRunsOn(runsOn: RunsOn | undefined, subject: string): void {
  const problem = runsOnProblem(runsOn);
  if (problem === null) return;
  throw invalidArgument(`${problem.missing ? 'Missing' : 'Invalid'} "spec.${problem.field}": ${subject} ${problem.message}`);
}
