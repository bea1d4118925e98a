/**
 * When the disk refuses a transaction (full, failing), the store rolls it back and every request
 * that waited on it gets the error (`resource_exhausted`/`unavailable`). Memory must not keep what
 * the disk refused: documents (services, tasks, new executions) go back to what the disk has;
 * statuses, which say what really happened, are written again, every second until the disk takes
 * them. The daemon goes on once there is space again.
 */
import type { Logger } from '../domain/logger.js';
import type { Store, Touched } from '../store/store.js';
import type { ExecutionEngine } from './executions/execution-engine.js';
import type { ServiceEngine } from './services/service-engine.js';
import type { TaskEngine } from './tasks/task-engine.js';

const RETRY_STATUS_MS = 1000;

export function revertRefusedWrites(store: Store, engines: { services: ServiceEngine; tasks: TaskEngine; executions: ExecutionEngine }, log: Logger): () => void {
  const pending = { services: new Set<string>(), executions: new Set<string>() };
  let timer: NodeJS.Timeout | undefined;
  const retry = (): void => {
    timer = undefined;
    const services = [...pending.services];
    const executions = [...pending.executions];
    pending.services.clear();
    pending.executions.clear();
    for (const id of services) engines.services.persistStatus(id);
    for (const id of executions) engines.executions.persistStatus(id);
  };
  store.onRollback((touched: Touched) => {
    log.warn({ changes: [...touched.values()].reduce((sum, ids) => sum + ids.size, 0) }, 'The disk refused a write: memory goes back to what the disk has');
    // Once the operation that wrote has unwound.
    setImmediate(() => {
      for (const id of touched.get('service') ?? []) engines.services.revert(id);
      for (const id of touched.get('task') ?? []) engines.tasks.revert(id);
      for (const id of touched.get('execution') ?? []) engines.executions.revert(id);
      for (const id of touched.get('service-status') ?? []) pending.services.add(id);
      for (const id of touched.get('execution-status') ?? []) pending.executions.add(id);
      timer ??= setTimeout(retry, RETRY_STATUS_MS);
    });
  });
  return () => clearTimeout(timer);
}
