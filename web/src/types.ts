/** The wire shapes the page reads: the API's own types (type-only imports: nothing of src/ is bundled). */
export type { Service, Task, TaskExecution, TaskExecutionStep, TaskExecutionStepStatus } from '../../src/domain/schema.js';
export type { PhaseSince, StepTimes } from '../../src/dashboard/observed-times.js';

/** A port as GetStatus lists it: found listening (a service's processes hold it) or recorded (`gitpod environment port open`). */
export interface OpenPort {
  readonly port: number;
  readonly name?: string;
  readonly url: string;
  readonly listening?: boolean;
  /** The service that listens on it, or whose command recorded it. */
  readonly serviceId?: string | null;
  readonly found?: boolean;
  readonly recorded?: boolean;
  readonly openedBy?: { readonly serviceId?: string | null };
}

/** What a STARTING service waits for (GetStatus `readiness`): its ready command, since when, what its last probe said. */
export interface ReadinessWait {
  readonly serviceId: string;
  readonly readyCommand: string;
  readonly waitingSince: string;
  readonly probes: number;
  readonly readinessTimeout: string | null;
  readonly lastProbe: { readonly exitCode: number | null; readonly output: string; readonly killedAtBound: boolean } | null;
}

/** What tend.v1.DaemonService/GetStatus answers (the part the page shows). */
export interface DaemonStatus {
  readonly daemon: { readonly url: string; readonly environmentId: string; readonly workspace: string; readonly pid: number };
  readonly automationsFile: { readonly path: string; readonly problems: readonly string[]; readonly appliedAt: string | null } | null;
  readonly mode: 'standalone' | 'runner' | 'serve-only';
  readonly controlPlane: {
    readonly url: string;
    readonly connected: boolean;
    readonly lastReportAt: string | null;
    readonly outboxDepth: number;
    readonly lastError: string | null;
  } | null;
  readonly ports?: readonly OpenPort[];
  readonly readiness?: readonly ReadinessWait[];
}

export interface ResourceEvent {
  readonly operation: 'RESOURCE_OPERATION_CREATE' | 'RESOURCE_OPERATION_UPDATE' | 'RESOURCE_OPERATION_DELETE' | 'RESOURCE_OPERATION_UPDATE_STATUS';
  readonly resourceType: 'RESOURCE_TYPE_SERVICE' | 'RESOURCE_TYPE_TASK' | 'RESOURCE_TYPE_TASK_EXECUTION' | 'RESOURCE_TYPE_ENVIRONMENT';
  readonly resourceId: string;
  readonly times: unknown;
}
