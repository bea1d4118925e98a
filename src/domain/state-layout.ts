/**
 * Every path of a state directory, in one place. Paths are built only from ids that tend made
 * itself (UUIDs: run ids, execution ids, service ids checked at the door) and from indexes, never
 * from a client's string (a session, a reference, a secret id): two services given the same
 * `spec.session` never share a file, and `../../x` never leaves the directory.
 *
 * ```
 * store.db  token  runner-token  owner-id  runner-id  daemon.json  daemon.lock  daemon.owner  daemon.log
 * logs/<run id>.log                  one session of a service (its stop command appends)
 * logs/<execution id>/<index>.log    one step of an execution, by its position in the plan
 * outputs/<run id>.env               GITPOD_OUTPUT of one run (a service session or a step)
 * secrets/<secret id>                read only, found by listing the directory
 * bin/gitpod  bin/ona                 tend's `gitpod` and `ona` commands, first on every command's PATH
 * ```
 */
import { join } from 'node:path';

const TEND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for an id of the shape tend makes (a UUID). */
export function isTendId(id: string): boolean {
  return TEND_ID.test(id);
}

function tendId(id: string, what: string): string {
  if (!isTendId(id)) throw new Error(`Refusing to build a path from ${what} "${id}": not an id tend made`);
  return id;
}

export class StateLayout {
  constructor(readonly root: string) {}

  get store(): string {
    return join(this.root, 'store.db');
  }
  get token(): string {
    return join(this.root, 'token');
  }
  get runnerToken(): string {
    return join(this.root, 'runner-token');
  }
  /** The id of the API token's owner (`metadata.creator.id` of what its calls make), made once. */
  get ownerId(): string {
    return join(this.root, 'owner-id');
  }
  /** A serve-only daemon's id for its runner (the creator id of what the runner token's calls make). */
  get runnerId(): string {
    return join(this.root, 'runner-id');
  }
  get daemonInfo(): string {
    return join(this.root, 'daemon.json');
  }
  get lock(): string {
    return join(this.root, 'daemon.lock');
  }
  get lockOwner(): string {
    return join(this.root, 'daemon.owner');
  }
  get daemonLog(): string {
    return join(this.root, 'daemon.log');
  }
  get logs(): string {
    return join(this.root, 'logs');
  }
  get outputs(): string {
    return join(this.root, 'outputs');
  }
  get secrets(): string {
    return join(this.root, 'secrets');
  }
  /** The directory put first on the PATH of every command on the machine. */
  get bin(): string {
    return join(this.root, 'bin');
  }

  /** One of the commands tend puts on its commands' PATH. */
  command(name: 'gitpod' | 'ona'): string {
    return join(this.bin, name);
  }

  /** The log of one session of a service. */
  runLog(runId: string): string {
    return join(this.logs, `${tendId(runId, 'a run id')}.log`);
  }

  /** The GITPOD_OUTPUT file of one run. */
  runOutput(runId: string): string {
    return join(this.outputs, `${tendId(runId, 'a run id')}.env`);
  }

  /** The run id an outputs file belongs to, or undefined for any other name. */
  runOfOutput(fileName: string): string | undefined {
    const runId = fileName.replace(/\.env$/, '');
    return isTendId(runId) && fileName === `${runId}.env` ? runId : undefined;
  }

  executionLogs(executionId: string): string {
    return join(this.logs, tendId(executionId, 'an execution id'));
  }

  /** Where the GITPOD_OUTPUT files of an execution's task steps are, while they run. */
  executionOutputs(executionId: string): string {
    return join(this.outputs, tendId(executionId, 'an execution id'));
  }

  /**
   * The GITPOD_OUTPUT file of the step at `index`: named by its place, so that it can be made
   * before the step starts (the runner makes the next group's files while a group runs).
   */
  stepOutput(executionId: string, index: number): string {
    if (!Number.isInteger(index) || index < 0) throw new Error(`Refusing to build a path from step index ${index}`);
    return join(this.executionOutputs(executionId), `${index}.env`);
  }

  /** The log of the step at `index` (its position in the plan, groups flattened). */
  stepLog(executionId: string, index: number): string {
    if (!Number.isInteger(index) || index < 0) throw new Error(`Refusing to build a path from step index ${index}`);
    return join(this.executionLogs(executionId), `${index}.log`);
  }
}
