/**
 * Every change of a service, task or execution as the event stream shows it:
 * `{operation, resourceType, resourceId}`. UPDATE_STATUS is emitted only when a status changed.
 */
import { EventEmitter } from 'node:events';
import type { ExecutionEngine } from './executions/execution-engine.js';
import type { ServiceEngine } from './services/service-engine.js';
import type { TaskEngine } from './tasks/task-engine.js';

export type ResourceOperation =
  | 'RESOURCE_OPERATION_CREATE'
  | 'RESOURCE_OPERATION_UPDATE'
  | 'RESOURCE_OPERATION_DELETE'
  | 'RESOURCE_OPERATION_UPDATE_STATUS';

export type ResourceType = 'RESOURCE_TYPE_SERVICE' | 'RESOURCE_TYPE_TASK' | 'RESOURCE_TYPE_TASK_EXECUTION' | 'RESOURCE_TYPE_ENVIRONMENT';

export interface ResourceEvent {
  readonly operation: ResourceOperation;
  readonly resourceType: ResourceType;
  readonly resourceId: string;
}

const OPERATION = {
  create: 'RESOURCE_OPERATION_CREATE',
  update: 'RESOURCE_OPERATION_UPDATE',
  delete: 'RESOURCE_OPERATION_DELETE',
  status: 'RESOURCE_OPERATION_UPDATE_STATUS',
} as const satisfies Record<string, ResourceOperation>;

export class ResourceEvents extends EventEmitter<{ event: [ResourceEvent] }> {
  constructor(services: ServiceEngine, tasks: TaskEngine, executions: ExecutionEngine) {
    super();
    // Every watcher is a listener; their number is bounded by connections, not by a constant.
    this.setMaxListeners(0);
    services.on('change', (kind, service) =>
      this.emit('event', { operation: OPERATION[kind], resourceType: 'RESOURCE_TYPE_SERVICE', resourceId: service.id }),
    );
    tasks.on('task', (kind, task) =>
      this.emit('event', { operation: OPERATION[kind], resourceType: 'RESOURCE_TYPE_TASK', resourceId: task.id }),
    );
    executions.on('execution', (kind, execution) =>
      this.emit('event', { operation: OPERATION[kind], resourceType: 'RESOURCE_TYPE_TASK_EXECUTION', resourceId: execution.id }),
    );
  }
}
