/**
 * gitpod.v1.EnvironmentAutomationService: one handler per method, each validating its body with
 * the schema module and calling the engine. Methods of the reference that are not served yet
 * answer `unimplemented`.
 */
import { ApiError } from '../domain/errors.js';
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
  type AutomationMethod,
} from '../domain/schema.js';
import type { ServiceEngine } from '../engine/service-engine.js';
import type { TaskEngine } from '../engine/task-engine.js';
import type { Automations } from '../engine/automations.js';
import { checkEnvironment } from '../engine/requests.js';
import { parseBody } from './connect.js';

export type Handler = (body: unknown) => unknown;

export function automationHandlers(
  services: ServiceEngine,
  tasks: TaskEngine,
  automations: Automations,
  environmentId: string,
): Partial<Record<AutomationMethod, Handler>> {
  return {
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
    StartTask: (body) => ({ taskExecution: tasks.start(parseBody(IdRequest, body).id) }),
    GetTaskExecution: (body) => ({ taskExecution: tasks.execution(parseBody(IdRequest, body).id).execution }),
    ListTaskExecutions: (body) => {
      const page = tasks.listExecutions(parseBody(ListTaskExecutionsRequest, body));
      return { pagination: { nextToken: page.nextToken }, taskExecutions: page.items };
    },
    StopTaskExecution: (body) => {
      tasks.stopExecution(parseBody(IdRequest, body).id);
      return {};
    },
    CreateService: (body) => ({ service: services.create(parseBody(CreateServiceRequest, body)) }),
    GetService: (body) => ({ service: services.get(parseBody(IdRequest, body).id) }),
    ListServices: (body) => {
      const page = services.list(parseBody(ListServicesRequest, body));
      return { pagination: { nextToken: page.nextToken }, services: page.items };
    },
    UpdateService: (body) => {
      services.update(parseBody(UpdateServiceRequest, body));
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

export function resolveHandler(
  handlers: Partial<Record<AutomationMethod, Handler>>,
  method: string,
): Handler {
  const known = (AUTOMATION_METHODS as readonly string[]).includes(method);
  const handler = known ? handlers[method as AutomationMethod] : undefined;
  if (handler !== undefined) return handler;
  throw new ApiError(
    'unimplemented',
    known
      ? `Method "${method}" of gitpod.v1.EnvironmentAutomationService is not implemented by this tend yet`
      : `Method "${method}" does not exist on gitpod.v1.EnvironmentAutomationService`,
  );
}
