/**
 * The names the API and the automations file are made of, as plain lists: the enums (the API's in
 * proto order: index n is the value numbered n), the triggers and the file's spellings. No zod
 * here, so that what only needs a name (the CLI, a daemon that has checked no request yet) does
 * not load it; their schemas are in schema.ts.
 */

export const SERVICE_PHASES = [
  'SERVICE_PHASE_UNSPECIFIED',
  'SERVICE_PHASE_STARTING',
  'SERVICE_PHASE_RUNNING',
  'SERVICE_PHASE_STOPPING',
  'SERVICE_PHASE_STOPPED',
  'SERVICE_PHASE_FAILED',
  'SERVICE_PHASE_DELETED',
] as const;

export const SERVICE_ROLES = [
  'SERVICE_ROLE_UNSPECIFIED',
  'SERVICE_ROLE_DEFAULT',
  'SERVICE_ROLE_EDITOR',
  'SERVICE_ROLE_AI_AGENT',
  'SERVICE_ROLE_SECURITY_AGENT',
] as const;

export const PRINCIPALS = [
  'PRINCIPAL_UNSPECIFIED',
  'PRINCIPAL_ACCOUNT',
  'PRINCIPAL_USER',
  'PRINCIPAL_RUNNER',
  'PRINCIPAL_ENVIRONMENT',
  'PRINCIPAL_SERVICE_ACCOUNT',
  'PRINCIPAL_RUNNER_MANAGER',
] as const;

export const TASK_EXECUTION_PHASES = [
  'TASK_EXECUTION_PHASE_UNSPECIFIED',
  'TASK_EXECUTION_PHASE_PENDING',
  'TASK_EXECUTION_PHASE_RUNNING',
  'TASK_EXECUTION_PHASE_SUCCEEDED',
  'TASK_EXECUTION_PHASE_FAILED',
  'TASK_EXECUTION_PHASE_STOPPED',
] as const;

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

/** Roles as the file spells them. */
export const FILE_ROLES = ['', 'default', 'editor', 'ai-agent', 'security-agent'] as const;
export const SERVICE_TRIGGERS = ['manual', 'postMachineStart', 'postEnvironmentStart', 'postDevcontainerStart', 'prebuild'] as const;
