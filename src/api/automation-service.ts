/**
 * gitpod.v1.EnvironmentAutomationService: one handler per method, each checking its body against
 * its schema (`parse-request.ts`) and calling the engine. Methods of the reference that are not served yet
 * answer `unimplemented`. What a call creates has the caller as its creator.
 */
import { ApiError, permissionDenied } from '../domain/errors.js';
import { AUTOMATION_METHODS, type AutomationMethod } from '../domain/methods.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Automations } from '../engine/automations.js';
import { checkEnvironment } from '../engine/requests.js';
import type { Caller, Scope } from './auth.js';
import { parseRequest, requestParsing } from './parse-request.js';

export type Handler = (body: unknown, caller: Caller) => unknown;

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
    UpdateTaskExecutionStatus: async (body, { scope }) => {
      requireStatusPermission(scope);
      const request = await parseRequest('UpdateTaskExecutionStatusRequest', body);
      executions.reportStatus(request.id, request.status);
      return {};
    },
    UpsertAutomationsFile: async (body, { subject }) => {
      const request = (await requestParsing()).automationsFileOf(body);
      checkEnvironment(request.environmentId, environmentId);
      return automations.apply(request.file, subject);
    },
    CreateTask: async (body, { subject }) => ({ task: tasks.create(await parseRequest('CreateTaskRequest', body), subject) }),
    GetTask: async (body) => ({ task: tasks.get((await parseRequest('IdRequest', body)).id) }),
    ListTasks: async (body) => {
      const page = tasks.list(await parseRequest('ListTasksRequest', body));
      return { pagination: { nextToken: page.nextToken }, tasks: page.items };
    },
    UpdateTask: async (body) => {
      tasks.update(await parseRequest('UpdateTaskRequest', body));
      return {};
    },
    DeleteTask: async (body) => {
      tasks.delete((await parseRequest('IdRequest', body)).id);
      return {};
    },
    StartTask: async (body, { subject }) => ({ taskExecution: executions.start((await parseRequest('IdRequest', body)).id, 'manual', undefined, subject) }),
    GetTaskExecution: async (body) => ({ taskExecution: executions.get((await parseRequest('IdRequest', body)).id) }),
    ListTaskExecutions: async (body) => {
      const page = executions.list(await parseRequest('ListTaskExecutionsRequest', body));
      return { pagination: { nextToken: page.nextToken }, taskExecutions: page.items };
    },
    StopTaskExecution: async (body) => {
      executions.stop((await parseRequest('IdRequest', body)).id);
      return {};
    },
    CreateService: async (body, { subject }) => ({ service: services.create(await parseRequest('CreateServiceRequest', body), subject) }),
    GetService: async (body) => ({ service: services.get((await parseRequest('IdRequest', body)).id) }),
    ListServices: async (body) => {
      const page = services.list(await parseRequest('ListServicesRequest', body));
      return { pagination: { nextToken: page.nextToken }, services: page.items };
    },
    UpdateService: async (body, { scope }) => {
      const { status, ...request } = await parseRequest('UpdateServiceRequest', body);
      if (status !== undefined) requireStatusPermission(scope);
      services.update(request);
      if (status !== undefined) services.reportStatus(request.id, status);
      return {};
    },
    StartService: async (body) => {
      services.start((await parseRequest('IdRequest', body)).id);
      return {};
    },
    StopService: async (body) => {
      services.stop((await parseRequest('IdRequest', body)).id);
      return {};
    },
    DeleteService: async (body) => {
      const request = await parseRequest('DeleteServiceRequest', body);
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
