/** One problem found in an automations file, located by line and column (1-based). */
export interface Problem {
  readonly line: number;
  readonly column: number;
  /** The field's path, such as `services.web.commands.start`; '' for the whole document. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(file: string, problem: Problem): string {
  return `${file}:${problem.line}:${problem.column}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`;
}

export class InvalidAutomationsFile extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(`${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((problem) => formatProblem(file, problem)).join('\n')}`);
    this.name = 'InvalidAutomationsFile';
  }
}

export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
