/**
 * One firing of triggers. Executions started by the same firing share the run of a common
 * dependency: the first execution to reach a task runs it, the others wait for its result.
 */
export interface SharedStepResult {
  readonly outcome: 'succeeded' | 'failed';
  readonly failureMessage: string | null;
  readonly output: Readonly<Record<string, string>>;
}

export type StepClaim =
  | { readonly owner: true; readonly publish: (result: SharedStepResult) => void }
  | { readonly owner: false; readonly ownerExecutionId: string; readonly result: Promise<SharedStepResult> };

export class Firing {
  private readonly runs = new Map<string, { executionId: string; result: Promise<SharedStepResult> }>();

  constructor(readonly triggers: readonly string[]) {}

  claim(taskId: string, executionId: string): StepClaim {
    const existing = this.runs.get(taskId);
    if (existing !== undefined) return { owner: false, ownerExecutionId: existing.executionId, result: existing.result };
    let publish!: (result: SharedStepResult) => void;
    const result = new Promise<SharedStepResult>((resolve) => (publish = resolve));
    this.runs.set(taskId, { executionId, result });
    return { owner: true, publish };
  }
}
