/** The keepers of a daemon that runs its task executions: an `ExecutionRunner` each. */
import { NEW_EXECUTION } from '../../domain/execution-lifecycle.js';
import type { TaskExecution } from '../../domain/schema.js';
import type { StoredExecution } from '../../store/store.js';
import type { Firing } from '../firing.js';
import type { Recovery } from '../recovery.js';
import type { ServiceEngine } from '../services/service-engine.js';
import type { EngineParts } from '../settings.js';
import type { ExecutionKeeper, ExecutionKeeperContext, ExecutionKeepers } from './execution-keeper.js';
import { ExecutionRunner } from './execution-runner.js';

export class ExecutionRunners implements ExecutionKeepers {
  constructor(
    private readonly parts: EngineParts,
    private readonly services: ServiceEngine,
    private readonly recovery: Recovery,
  ) {}

  create(context: ExecutionKeeperContext, execution: TaskExecution, taskReference: string, firing: Firing | undefined): ExecutionKeeper {
    return new ExecutionRunner(this.parts, this.services, context, execution, taskReference, firing, false, NEW_EXECUTION);
  }

  /** An execution a dead daemon was running: its steps are stopped and it ends FAILED. */
  async restore(context: ExecutionKeeperContext, stored: StoredExecution): Promise<ExecutionKeeper> {
    await this.recovery.stopSteps(stored.processes, this.parts.settings.workspace);
    const runner = new ExecutionRunner(this.parts, this.services, context, stored.execution, stored.taskReference, undefined, true, NEW_EXECUTION);
    runner.recover();
    return runner;
  }
}
