/**
 * The one declaration of every resource of gitpod.v1.EnvironmentAutomationService that tend
 * serves, and of every request body it takes. TypeScript types, API body validation, the
 * automations file and its JSON Schema all come from here.
 *
 * The objects are strict, and a request body reaches them through proto3 JSON's reading rules
 * first (`api/proto-json.ts`, as Connect-go decodes JSON): `null` is "not set", proto field names
 * (`environment_id`) are read as their JSON names, enums may be numbers, 64-bit integers strings
 * or numbers, and a field this version does not know is dropped. Only the automations file (the
 * YAML, and UpsertAutomationsFile's `automationsFile`) keeps unknown fields as errors: its own
 * contract says so. The enum arrays below are in proto order: index n is the value numbered n.
 */
import { z } from 'zod';

export const REFERENCE_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * What a secret id may be: a file name in `<state-dir>/secrets/` (a UUID, as the reference's
 * secrets have, fits too), never a path and never a dot file.
 */
export const SECRET_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** How proto3 JSON reads a schema's values (see `api/proto-json.ts`). */
export interface ProtoJsonMeta {
  /** An enum's names in proto order: the number n stands for the name at index n. */
  readonly enumNumbers?: readonly string[];
  /** A 64-bit integer: a decimal string on the wire; a number is taken too. */
  readonly int64?: true;
  /** Unknown fields in this subtree are errors, not dropped (the automations file). */
  readonly unknownFields?: 'error';
}
export const protoJson = z.registry<ProtoJsonMeta>();

/** A uint64 of the proto (specVersion, statusVersion): its JSON is a decimal string. */
export const Uint64 = z.string().regex(/^\d{1,20}$/, { message: 'Must be a decimal integer' });
protoJson.add(Uint64, { int64: true });

export const SERVICE_PHASES = [
  'SERVICE_PHASE_UNSPECIFIED',
  'SERVICE_PHASE_STARTING',
  'SERVICE_PHASE_RUNNING',
  'SERVICE_PHASE_STOPPING',
  'SERVICE_PHASE_STOPPED',
  'SERVICE_PHASE_FAILED',
  'SERVICE_PHASE_DELETED',
] as const;
export const ServicePhase = z.enum(SERVICE_PHASES);
protoJson.add(ServicePhase, { enumNumbers: SERVICE_PHASES });
export type ServicePhase = z.infer<typeof ServicePhase>;

export const SERVICE_ROLES = [
  'SERVICE_ROLE_UNSPECIFIED',
  'SERVICE_ROLE_DEFAULT',
  'SERVICE_ROLE_EDITOR',
  'SERVICE_ROLE_AI_AGENT',
  'SERVICE_ROLE_SECURITY_AGENT',
] as const;
export const ServiceRole = z.enum(SERVICE_ROLES);
protoJson.add(ServiceRole, { enumNumbers: SERVICE_ROLES });
export type ServiceRole = z.infer<typeof ServiceRole>;

export const PRINCIPALS = [
  'PRINCIPAL_UNSPECIFIED',
  'PRINCIPAL_ACCOUNT',
  'PRINCIPAL_USER',
  'PRINCIPAL_RUNNER',
  'PRINCIPAL_ENVIRONMENT',
  'PRINCIPAL_SERVICE_ACCOUNT',
  'PRINCIPAL_RUNNER_MANAGER',
] as const;
export const Principal = z.enum(PRINCIPALS);
protoJson.add(Principal, { enumNumbers: PRINCIPALS });

export const TASK_EXECUTION_PHASES = [
  'TASK_EXECUTION_PHASE_UNSPECIFIED',
  'TASK_EXECUTION_PHASE_PENDING',
  'TASK_EXECUTION_PHASE_RUNNING',
  'TASK_EXECUTION_PHASE_SUCCEEDED',
  'TASK_EXECUTION_PHASE_FAILED',
  'TASK_EXECUTION_PHASE_STOPPED',
] as const;
export const TaskExecutionPhase = z.enum(TASK_EXECUTION_PHASES);
protoJson.add(TaskExecutionPhase, { enumNumbers: TASK_EXECUTION_PHASES });
export type TaskExecutionPhase = z.infer<typeof TaskExecutionPhase>;

/** Trigger names as the API spells them (object keys) and the file spells them (strings). */
export const TRIGGER_NAMES = [
  'manual',
  'postMachineStart',
  'postEnvironmentStart',
  'postDevcontainerStart',
  'prebuild',
  'beforeSnapshot',
] as const;
export type TriggerName = (typeof TRIGGER_NAMES)[number];

export const Uuid = z.string().regex(UUID_PATTERN, { message: 'Must be a UUID' });
export const Reference = z
  .string()
  .regex(REFERENCE_PATTERN, { message: 'Must match ^[a-zA-Z0-9_-]{1,128}$' });

export const AutomationTrigger = z.strictObject({
  beforeSnapshot: z.boolean().optional(),
  manual: z.boolean().optional(),
  postDevcontainerStart: z.boolean().optional(),
  postEnvironmentStart: z.boolean().optional(),
  postMachineStart: z.boolean().optional(),
  prebuild: z.boolean().optional(),
});
export type AutomationTrigger = z.infer<typeof AutomationTrigger>;

export const Subject = z.strictObject({
  id: z.string().optional(),
  principal: Principal.optional(),
});
export type Subject = z.infer<typeof Subject>;

export const SecretRef = z.strictObject({ id: z.string().optional() });
export const EnvironmentVariableItem = z.strictObject({
  name: z.string().optional(),
  value: z.string().optional(),
  valueFrom: z.strictObject({ secretRef: SecretRef }).optional(),
});
export type EnvironmentVariableItem = z.infer<typeof EnvironmentVariableItem>;

export const RunsOn = z.strictObject({
  docker: z
    .strictObject({
      environment: z.array(z.string()).optional(),
      image: z.string().optional(),
    })
    .optional(),
  /** `RunsOn.Machine` is an empty message: `{}` and nothing else. */
  machine: z.strictObject({}).optional(),
});
export type RunsOn = z.infer<typeof RunsOn>;

export const ServiceCommands = z.strictObject({
  ready: z.string().optional(),
  start: z.string().optional(),
  stop: z.string().optional(),
});
export type ServiceCommands = z.infer<typeof ServiceCommands>;

export const ServiceMetadata = z.strictObject({
  createdAt: z.string().optional(),
  creator: Subject.optional(),
  description: z.string().optional(),
  name: z.string().optional(),
  reference: z.string().optional(),
  role: ServiceRole.optional(),
  triggeredBy: z.array(AutomationTrigger).optional(),
});
export type ServiceMetadata = z.infer<typeof ServiceMetadata>;

export const ServiceSpec = z.strictObject({
  commands: ServiceCommands.optional(),
  desiredPhase: ServicePhase.optional(),
  env: z.array(EnvironmentVariableItem).optional(),
  runsOn: RunsOn.optional(),
  session: z.string().optional(),
  specVersion: Uint64.optional(),
  /** tend extension (the file's `readinessTimeout`): a duration such as "30s"; "0s" or absent: none. */
  readinessTimeout: z.string().optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/**
 * A status report (`UpdateService.status` of the reference): the five fields and no version. The
 * receiver (a control plane) gives each report its own statusVersion as it arrives.
 */
export const ServiceStatusReport = z.strictObject({
  failureMessage: z.string().optional(),
  logUrl: z.string().optional(),
  output: z.record(z.string(), z.string()).optional(),
  phase: ServicePhase.optional(),
  session: z.string().optional(),
});
export type ServiceStatusReport = z.infer<typeof ServiceStatusReport>;

export const ServiceStatus = ServiceStatusReport.extend({ statusVersion: Uint64.optional() });
export type ServiceStatus = z.infer<typeof ServiceStatus>;

/** A service as stored and as returned on the wire. */
export interface Service {
  id: string;
  environmentId: string;
  metadata: ServiceMetadata;
  spec: ServiceSpec;
  status: ServiceStatus;
}

export const TaskMetadata = z.strictObject({
  createdAt: z.string().optional(),
  creator: Subject.optional(),
  description: z.string().optional(),
  name: z.string().optional(),
  reference: z.string().optional(),
  triggeredBy: z.array(AutomationTrigger).optional(),
});
export type TaskMetadata = z.infer<typeof TaskMetadata>;

export const TaskSpec = z.strictObject({
  command: z.string().optional(),
  env: z.array(EnvironmentVariableItem).optional(),
  runsOn: RunsOn.optional(),
  /** `tend prebuild` fails when a task with this set did not succeed. */
  prebuildRequiresSuccess: z.boolean().optional(),
});
export type TaskSpec = z.infer<typeof TaskSpec>;

export interface Task {
  id: string;
  environmentId: string;
  dependsOn: string[];
  metadata: TaskMetadata;
  spec: TaskSpec;
}

export interface TaskExecutionStep {
  id: string;
  dependsOn: string[];
  label: string;
  serviceId?: string;
  task?: { id: string; spec: TaskSpec };
}

export interface TaskExecutionStepStatus {
  id: string;
  phase: TaskExecutionPhase;
  failureMessage?: string;
  output?: Record<string, string>;
}

export interface TaskExecutionMetadata {
  createdAt: string;
  creator?: Subject;
  environmentId: string;
  startedAt?: string;
  startedBy: string;
  taskId: string;
  completedAt?: string;
}

export interface TaskExecution {
  id: string;
  metadata: TaskExecutionMetadata;
  spec: {
    desiredPhase?: TaskExecutionPhase;
    plan: Array<{ steps: TaskExecutionStep[] }>;
  };
  status: {
    failureMessage?: string;
    logUrl?: string;
    phase: TaskExecutionPhase;
    statusVersion: string;
    steps: TaskExecutionStepStatus[];
  };
}

// ---- Request bodies -------------------------------------------------------------------------

const Pagination = z.strictObject({
  token: z.string().optional(),
  /** An int32 of the proto; more than 100 is read as 100. */
  pageSize: z.number().int().min(0).max(2_147_483_647).optional(),
});

export const CreateServiceRequest = z.strictObject({
  environmentId: z.string().optional(),
  metadata: ServiceMetadata.optional(),
  spec: ServiceSpec.optional(),
});
export type CreateServiceRequest = z.infer<typeof CreateServiceRequest>;

export const IdRequest = z.strictObject({ id: z.string().optional() });

export const DeleteServiceRequest = z.strictObject({
  id: z.string().optional(),
  force: z.boolean().optional(),
});

export const ListServicesRequest = z.strictObject({
  filter: z
    .strictObject({
      environmentIds: z.array(z.string()).optional(),
      references: z.array(z.string()).optional(),
      roles: z.array(ServiceRole).optional(),
      serviceIds: z.array(z.string()).optional(),
    })
    .optional(),
  pagination: Pagination.optional(),
});
export type ListServicesRequest = z.infer<typeof ListServicesRequest>;

export const UpdateServiceRequest = z.strictObject({
  id: z.string().optional(),
  metadata: z
    .strictObject({
      description: z.string().optional(),
      name: z.string().optional(),
      role: ServiceRole.optional(),
      triggeredBy: z.strictObject({ trigger: z.array(AutomationTrigger).optional() }).optional(),
    })
    .optional(),
  spec: z
    .strictObject({
      commands: ServiceCommands.optional(),
      env: z.array(EnvironmentVariableItem).optional(),
      runsOn: RunsOn.optional(),
      readinessTimeout: z.string().optional(),
    })
    .optional(),
  /** A status report of the executing environment (needs the runner token). */
  status: ServiceStatusReport.optional(),
});
export type UpdateServiceRequest = z.infer<typeof UpdateServiceRequest>;

export const CreateTaskRequest = z.strictObject({
  dependsOn: z.array(z.string()).optional(),
  environmentId: z.string().optional(),
  metadata: TaskMetadata.optional(),
  spec: TaskSpec.optional(),
});
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;

export const ListTasksRequest = z.strictObject({
  filter: z
    .strictObject({
      environmentIds: z.array(z.string()).optional(),
      references: z.array(z.string()).optional(),
      taskIds: z.array(z.string()).optional(),
    })
    .optional(),
  pagination: Pagination.optional(),
});
export type ListTasksRequest = z.infer<typeof ListTasksRequest>;

export const UpdateTaskRequest = z.strictObject({
  id: z.string().optional(),
  dependsOn: z.array(z.string()).optional(),
  metadata: z
    .strictObject({
      description: z.string().optional(),
      name: z.string().optional(),
      triggeredBy: z.strictObject({ trigger: z.array(AutomationTrigger).optional() }).optional(),
    })
    .optional(),
  spec: z
    .strictObject({
      command: z.string().optional(),
      env: z.array(EnvironmentVariableItem).optional(),
      runsOn: RunsOn.optional(),
      prebuildRequiresSuccess: z.boolean().optional(),
    })
    .optional(),
});
export type UpdateTaskRequest = z.infer<typeof UpdateTaskRequest>;

export const ListTaskExecutionsRequest = z.strictObject({
  filter: z
    .strictObject({
      environmentIds: z.array(z.string()).optional(),
      phases: z.array(TaskExecutionPhase).optional(),
      taskIds: z.array(z.string()).optional(),
      taskReferences: z.array(z.string()).optional(),
    })
    .optional(),
  pagination: Pagination.optional(),
});
export type ListTaskExecutionsRequest = z.infer<typeof ListTaskExecutionsRequest>;

/**
 * tend's status report of a task execution (`UpdateTaskExecutionStatus`, not in the public API):
 * what a runner sends its control plane, in the Connect style of UpdateService (no version: the
 * control plane gives each report its own as it arrives).
 */
export const TaskExecutionStatusReport = z.strictObject({
  failureMessage: z.string().optional(),
  logUrl: z.string().optional(),
  phase: TaskExecutionPhase,
  steps: z
    .array(
      z.strictObject({
        id: z.string(),
        phase: TaskExecutionPhase,
        failureMessage: z.string().optional(),
        output: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
});
export type TaskExecutionStatusReport = z.infer<typeof TaskExecutionStatusReport>;

export const UpdateTaskExecutionStatusRequest = z.strictObject({
  id: z.string().optional(),
  status: TaskExecutionStatusReport,
});

// ---- The automations file (`automations.yaml`, and the body of UpsertAutomationsFile) -------

/** Roles as the file spells them. */
export const FILE_ROLES = ['', 'default', 'editor', 'ai-agent', 'security-agent'] as const;
export const SERVICE_TRIGGERS = ['manual', 'postMachineStart', 'postEnvironmentStart', 'postDevcontainerStart', 'prebuild'] as const;

export const FileService = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  commands: ServiceCommands.optional(),
  role: z.enum(FILE_ROLES).optional(),
  runsOn: RunsOn.optional(),
  triggeredBy: z.array(z.enum(SERVICE_TRIGGERS)).optional(),
  readinessTimeout: z.string().optional(),
});
export type FileService = z.infer<typeof FileService>;

export const FileTask = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  command: z.string().optional(),
  dependsOn: z.array(z.string()).optional(),
  runsOn: RunsOn.optional(),
  triggeredBy: z.array(z.enum(TRIGGER_NAMES)).optional(),
  prebuildRequiresSuccess: z.boolean().optional(),
});
export type FileTask = z.infer<typeof FileTask>;

export const AutomationsFile = z.strictObject({
  services: z.record(z.string(), FileService).optional(),
  tasks: z.record(z.string(), FileTask).optional(),
});
export type AutomationsFile = z.infer<typeof AutomationsFile>;
protoJson.add(AutomationsFile, { unknownFields: 'error' });

/** UpsertAutomationsFile: the file is checked on its own (every problem at once), then applied. */
export const UpsertAutomationsFileRequest = z.strictObject({
  environmentId: z.string().optional(),
  automationsFile: AutomationsFile.optional(),
});

// ---- The other services' requests that tend serves ------------------------------------------

/**
 * `EventService/WatchEvents`. The scope is a oneof: an environment's events, or the
 * organization's (tend has no organization: every event of its one environment).
 */
export const WatchEventsRequest = z.strictObject({
  environmentId: z.string().optional(),
  organization: z.boolean().optional(),
});

/** `EnvironmentService/CreateEnvironmentLogsToken`. */
export const LogsTokenRequest = z.strictObject({ environmentId: z.string().optional() });

/** `tend.v1.DaemonService/FireTrigger`. */
export const FireTriggerRequest = z.strictObject({ triggers: z.array(z.enum(TRIGGER_NAMES)).min(1) });

/** Every method of the reference; the ones not served yet answer `unimplemented`. */
export const AUTOMATION_METHODS = [
  'UpsertAutomationsFile',
  'CreateService',
  'DeleteService',
  'GetService',
  'ListServices',
  'StartService',
  'StopService',
  'UpdateService',
  'CreateTask',
  'DeleteTask',
  'GetTask',
  'ListTasks',
  'StartTask',
  'UpdateTask',
  'GetTaskExecution',
  'ListTaskExecutions',
  'StopTaskExecution',
] as const;
export type AutomationMethod = (typeof AUTOMATION_METHODS)[number];

/**
 * The services of the reference that tend serves a part of, with the methods it serves; any other
 * method of them answers `unimplemented` (the SDK's `events.list` is `ListAuditLogs`).
 */
export const SERVED_METHODS = {
  'gitpod.v1.EnvironmentAutomationService': [...AUTOMATION_METHODS, 'UpdateTaskExecutionStatus'],
  'gitpod.v1.EventService': ['WatchEvents'],
  'gitpod.v1.EnvironmentService': ['CreateEnvironmentLogsToken'],
  'tend.v1.DaemonService': ['GetStatus', 'FireTrigger'],
} as const satisfies Record<string, readonly string[]>;
export type ServedService = keyof typeof SERVED_METHODS;
