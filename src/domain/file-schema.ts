/**
 * The automations file (`automations.yaml`, and the body of UpsertAutomationsFile) as the file
 * spells it: strict, and unknown fields are errors (its own contract says so). Read by
 * `config/check-file-data.ts`, which reports every problem at once with its place.
 */
import { z } from 'zod';
import { FILE_ROLES, SERVICE_TRIGGERS, TRIGGER_NAMES } from './enums.js';
import { protoJson, RunsOn, ServiceCommands } from './schema.js';

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
