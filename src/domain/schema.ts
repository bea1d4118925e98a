/**
 * The resources of gitpod.v1.EnvironmentAutomationService that tend serves: their schemas (the
 * parts every request body and the automations file are built of) and their TypeScript types.
 * The request bodies are in request-schemas.ts, the file in file-schema.ts, the enums' names in
 * enums.ts; all three are loaded only where a body or a file is checked, so the CLI and a daemon
 * that has checked nothing yet never build a schema (nor load zod).
 *
 * The objects are strict, and a request body reaches them through proto3 JSON's reading rules
 * first (`api/proto-json.ts`, as Connect-go decodes JSON): `null` is "not set", proto field names
 * (`environment_id`) are read as their JSON names, enums may be numbers, 64-bit integers strings
 * or numbers, and a field this version does not know is dropped. Only the automations file (the
 * YAML, and UpsertAutomationsFile's `automationsFile`) keeps unknown fields as errors: its own
 * contract says so.
 */
import { z } from 'zod';
import { PRINCIPALS, SERVICE_PHASES, SERVICE_ROLES, TASK_EXECUTION_PHASES } from './enums.js';

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

export const ServicePhase = z.enum(SERVICE_PHASES);
protoJson.add(ServicePhase, { enumNumbers: SERVICE_PHASES });
export type ServicePhase = z.infer<typeof ServicePhase>;

export const ServiceRole = z.enum(SERVICE_ROLES);
protoJson.add(ServiceRole, { enumNumbers: SERVICE_ROLES });
export type ServiceRole = z.infer<typeof ServiceRole>;

export const Principal = z.enum(PRINCIPALS);
protoJson.add(Principal, { enumNumbers: PRINCIPALS });

export const TaskExecutionPhase = z.enum(TASK_EXECUTION_PHASES);
protoJson.add(TaskExecutionPhase, { enumNumbers: TASK_EXECUTION_PHASES });
export type TaskExecutionPhase = z.infer<typeof TaskExecutionPhase>;

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

// The types of what is checked elsewhere, for the code that takes it checked (type-only: importing
// them loads nothing).
export type { AutomationMethod, ServedService } from './methods.js';
export type { TriggerName } from './enums.js';
export type { AutomationsFile, FileService, FileTask } from './file-schema.js';
export type {
  CreateServiceRequest,
  CreateTaskRequest,
  ListServicesRequest,
  ListTaskExecutionsRequest,
  ListTasksRequest,
  TaskExecutionStatusReport,
  UpdateServiceRequest,
  UpdateTaskRequest,
} from './request-schemas.js';
