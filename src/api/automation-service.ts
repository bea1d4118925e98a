/**
 * gitpod.v1.EnvironmentAutomationService: one handler per method, each validating its body with
 * the schema module and calling the engine. Methods of the reference that are not served yet
 * answer `unimplemented`. What a call creates has the caller as its creator.
 */
import { checkFileData } from '../config/check-file-data.js';
import { pathText } from '../config/problem.js';
import { ApiError, invalidArgument, permissionDenied } from '../domain/errors.js';
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
  type AutomationsFile,
} from '../domain/schema.js';
import type { ExecutionEngine } from '../engine/executions/execution-engine.js';
import type { ServiceEngine } from '../engine/services/service-engine.js';
import type { TaskEngine } from '../engine/tasks/task-engine.js';
import type { Automations } from '../engine/automations.js';
import { checkEnvironment } from '../engine/requests.js';
import type { Caller, Scope } from './auth.js';
import { parseBody } from './connect.js';
import { normalizeProtoJson } from './proto-json.js';

export type Handler = (body: unknown, caller: Caller) => unknown;

const UpsertEnvelope = UpsertAutomationsFileRequest.omit({ automationsFile: true });

/**
 * UpsertAutomationsFile's file, checked whole (its shape and the checks beyond it, every problem
 * at once, as `tend validate` reports them). A request without a file is refused: it would
 * delete everything an earlier file made.
 */
function automationsFileOf(body: unknown): { environmentId?: string; file: AutomationsFile } {
  const { environmentId } = parseBody(UpsertEnvelope, body);
  const { automationsFile } = normalizeProtoJson(UpsertAutomationsFileRequest, body) as { automationsFile?: unknown };
  if (automationsFile === undefined) {
    throw invalidArgument('Missing "automationsFile": send the file to apply ({"automationsFile": {}} applies an empty file, which removes what earlier files made)');
  }
  const checked = checkFileData(automationsFile);
  if (checked.file === undefined) {
    throw invalidArgument(`Invalid automations file: ${checked.problems.map((problem) => `${pathText(problem.path)}: ${problem.message}`).join('; ')}`);
  }
  return { ...(environmentId !== undefined ? { environmentId } : {}), file: checked.file };
}

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
    UpdateTaskExecutionStatus: (body, { scope }) => {
      requireStatusPermission(scope);
      const request = parseBody(UpdateTaskExecutionStatusRequest, body);
      executions.reportStatus(request.id, request.status);
      return {};
    },
    UpsertAutomationsFile: async (body, { subject }) => {
      const request = automationsFileOf(body);
      checkEnvironment(request.environmentId, environmentId);
      return automations.apply(request.file, subject);
    },
    CreateTask: (body, { subject }) => ({ task: tasks.create(parseBody(CreateTaskRequest, body), subject) }),
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
    StartTask: (body, { subject }) => ({ taskExecution: executions.start(parseBody(IdRequest, body).id, 'manual', undefined, subject) }),
    GetTaskExecution: (body) => ({ taskExecution: executions.get(parseBody(IdRequest, body).id) }),
    ListTaskExecutions: (body) => {
      const page = executions.list(parseBody(ListTaskExecutionsRequest, body));
      return { pagination: { nextToken: page.nextToken }, taskExecutions: page.items };
    },
    StopTaskExecution: (body) => {
      executions.stop(parseBody(IdRequest, body).id);
      return {};
    },
    CreateService: (body, { subject }) => ({ service: services.create(parseBody(CreateServiceRequest, body), subject) }),
    GetService: (body) => ({ service: services.get(parseBody(IdRequest, body).id) }),
    ListServices: (body) => {
      const page = services.list(parseBody(ListServicesRequest, body));
      return { pagination: { nextToken: page.nextToken }, services: page.items };
    },
    UpdateService: (body, { scope }) => {
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
