/**
 * Every request body tend takes, strict, built from the resources of schema.ts. Loaded on the
 * first request that has a body to check (`api/request-parsing.ts`), not at the daemon's start:
 * building them took about 7 ms of it, and zod's own start as much again.
 */
import { z } from 'zod';
import { TRIGGER_NAMES } from './enums.js';
import { AutomationsFile } from './file-schema.js';
import {
  AutomationTrigger,
  EnvironmentVariableItem,
  RunsOn,
  ServiceCommands,
  ServiceMetadata,
  ServiceRole,
  ServiceSpec,
  ServiceStatusReport,
  TaskExecutionPhase,
  TaskMetadata,
  TaskSpec,
} from './schema.js';

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

/** `tend.v1.DaemonService/StopServices`: the services of these ids, or every service (`all`); one of the two. */
export const StopServicesRequest = z.strictObject({
  serviceIds: z.array(z.string().max(128)).min(1).max(10_000).optional(),
  all: z.boolean().optional(),
});

// ---- tend's DaemonService port methods (`gitpod environment port` inside commands) ----------

const Port = z.number().int().min(1).max(65_535);
export const OpenPortRequest = z.strictObject({ port: Port, name: z.string().max(128).optional(), runId: z.string().max(128).optional() });
export const ListPortsRequest = z.strictObject({});
export const ClosePortRequest = z.strictObject({ port: Port });
