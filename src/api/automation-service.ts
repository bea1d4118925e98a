/**
 * gitpod.v1.EnvironmentAutomationService: one handler per method, each validating its body with
 * the schema module and calling the engine. Methods of the reference that are not served yet
 * answer `unimplemented`.
 */
import { ApiError, permissionDenied } from '../domain/errors.js';
import {
  AUTOMATION_METHODS,
  CreateServiceRequest,
  CreateTaskRequest,
  ListTaskExecutionsRequest,
  ListTasksRequest,
  UpdateTaskRequest,
  UpsertAutomationsFileRequest,
  DeleteServiceRequest,
  IdRequest,
  ListServicesRequest,
  UpdateServiceRequest,
  UpdateTaskExecutionStatusRequest,
  type AutomationMethod,
} from '../domain/schema.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Automations } from '../engine/automations.js';
import { checkEnvironment } from '../engine/requests.js';
import type { Scope } from './auth.js';
import { parseBody } from './connect.js';

export type Handler = (body: unknown, scope: Scope) => unknown;

/** tend's method beside the reference's: a runner's task execution status report. */
export const TEND_AUTOMATION_METHODS = ['UpdateTaskExecutionStatus'] as const;
type TendAutomationMethod = (typeof TEND_AUTOMATION_METHODS)[number];

function requireStatusPermission(scope: Scope): void {
  if (scope !== 'runner') {
    throw permissionDenied(
      'Updating a status requires the environmentservice:update_status permission, which this token does not have: use the runner token of a daemon started with --serve-only',
    );
  }
}

export function automationHandlers(
  services: ServiceEngine,
  tasks: TaskEngine,
  executions: ExecutionEngine,
  automations: Automations,
  environmentId: string,
): Partial<Record<AutomationMethod | TendAutomationMethod, Handler>> {
  return {
    UpdateTaskExecutionStatus: (body, scope) => {
      requireStatusPermission(scope);
      const request = parseBody(UpdateTaskExecutionStatusRequest, body);
      executions.reportStatus(request.id, request.status);
      return {};
    },
    UpsertAutomationsFile: async (body) => {
      const request = parseBody(UpsertAutomationsFileRequest, body);
      checkEnvironment(request.environmentId, environmentId);
      return automations.apply(request.automationsFile ?? {});
    },
    CreateTask: (body) => ({ task: tasks.create(parseBody(CreateTaskRequest, body)) }),
    GetTask: (body) => ({ task: tasks.get(parseBody(IdRequest, body).id) }),
    ListTasks: (body) => {
      const page = tasks.list(parseBody(ListTasksRequest, body));
      return { pagination: { nextToken: page.nextToken }, tasks: page.items };
    },
    UpdateTask: (body) => {
      tasks.update(parseBody(UpdateTaskRequest, body));
      return {};
    },
    DeleteTask: (body) => {
      tasks.delete(parseBody(IdRequest, body).id);
      return {};
    },
    StartTask: (body) => ({ taskExecution: executions.start(parseBody(IdRequest, body).id) }),
    GetTaskExecution: (body) => ({ taskExecution: executions.get(parseBody(IdRequest, body).id) }),
    ListTaskExecutions: (body) => {
      const page = executions.list(parseBody(ListTaskExecutionsRequest, body));
      return { pagination: { nextToken: page.nextToken }, taskExecutions: page.items };
    },
    StopTaskExecution: (body) => {
      executions.stop(parseBody(IdRequest, body).id);
      return {};
    },
    CreateService: (body) => ({ service: services.create(parseBody(CreateServiceRequest, body)) }),
    GetService: (body) => ({ service: services.get(parseBody(IdRequest, body).id) }),
    ListServices: (body) => {
      const page = services.list(parseBody(ListServicesRequest, body));
      return { pagination: { nextToken: page.nextToken }, services: page.items };
    },
    UpdateService: (body, scope) => {
      const { status, ...request } = parseBody(UpdateServiceRequest, body);
      if (status !== undefined) requireStatusPermission(scope);
      services.update(request);
      if (status !== undefined) services.reportStatus(request.id, status);
      return {};
    },
    StartService: (body) => {
      services.start(parseBody(IdRequest, body).id);
      return {};
    },
    StopService: (body) => {
      services.stop(parseBody(IdRequest, body).id);
      return {};
    },
    DeleteService: (body) => {
      const request = parseBody(DeleteServiceRequest, body);
      services.delete(request.id, request.force ?? false);
      return {};
    },
  };
}

/** Methods that only read: a runner serves these (and logs and events) and refuses the others. */
export function isReadMethod(method: string): boolean {
  return /^(Get|List)/.test(method);
}

export function resolveHandler(
  handlers: Partial<Record<AutomationMethod | TendAutomationMethod, Handler>>,
  method: string,
): Handler {
  const known = ([...AUTOMATION_METHODS, ...TEND_AUTOMATION_METHODS] as readonly string[]).includes(method);
  const handler = known ? handlers[method as AutomationMethod] : undefined;
  if (handler !== undefined) return handler;
  throw new ApiError(
    'unimplemented',
    known
      ? `Method "${method}" of gitpod.v1.EnvironmentAutomationService is not implemented by this tend yet`
      : `Method "${method}" does not exist on gitpod.v1.EnvironmentAutomationService`,
  );
}
