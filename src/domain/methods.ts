/** The methods tend serves, by service (names only: the routing and the CLI need no schema). */

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
  'tend.v1.DaemonService': ['GetStatus', 'FireTrigger', 'StopServices'],
} as const satisfies Record<string, readonly string[]>;
export type ServedService = keyof typeof SERVED_METHODS;
