/**
 * The file's form and the API's form of the same automations differ (`role: ai-agent` vs
 * `SERVICE_ROLE_AI_AGENT`, triggers as strings vs `{postDevcontainerStart: true}`, dependencies
 * by key vs by id). These convert both ways.
 */
import type {
  AutomationTrigger,
  AutomationsFile,
  FileService,
  FileTask,
  Service,
  ServiceMetadata,
  ServiceRole,
  ServiceSpec,
  Task,
  TaskMetadata,
  TaskSpec,
  TriggerName,
} from '../domain/schema.js';
import { TRIGGER_NAMES } from '../domain/enums.js';

const ROLE_TO_API: Record<string, ServiceRole | undefined> = {
  '': undefined,
  default: 'SERVICE_ROLE_DEFAULT',
  editor: 'SERVICE_ROLE_EDITOR',
  'ai-agent': 'SERVICE_ROLE_AI_AGENT',
  'security-agent': 'SERVICE_ROLE_SECURITY_AGENT',
};

const ROLE_TO_FILE: Partial<Record<ServiceRole, FileService['role']>> = {
  SERVICE_ROLE_DEFAULT: 'default',
  SERVICE_ROLE_EDITOR: 'editor',
  SERVICE_ROLE_AI_AGENT: 'ai-agent',
  SERVICE_ROLE_SECURITY_AGENT: 'security-agent',
};

export function triggersToApi(triggers: readonly string[] | undefined): AutomationTrigger[] {
  return (triggers ?? []).map((trigger) => ({ [trigger]: true }));
}

export function triggersToFile(triggers: readonly AutomationTrigger[] | undefined): TriggerName[] {
  return (triggers ?? []).flatMap((trigger) => TRIGGER_NAMES.filter((name) => trigger[name] === true));
}

export function hasTrigger(triggers: readonly AutomationTrigger[] | undefined, names: readonly TriggerName[]): boolean {
  return (triggers ?? []).some((trigger) => names.some((name) => trigger[name] === true));
}

/** The parts of a service the file decides: its metadata and the spec fields the file has. */
export interface DesiredService {
  readonly metadata: ServiceMetadata;
  readonly spec: Pick<ServiceSpec, 'commands' | 'runsOn' | 'readinessTimeout'>;
}

export interface DesiredTask {
  readonly metadata: TaskMetadata;
  readonly spec: Pick<TaskSpec, 'command' | 'runsOn' | 'prebuildRequiresSuccess'>;
  /** By key; resolved to ids when applied. */
  readonly dependsOn: readonly string[];
}

const defined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;

export function serviceFromFile(key: string, service: FileService): DesiredService {
  return {
    metadata: defined({
      reference: key,
      name: service.name ?? key,
      description: service.description,
      role: ROLE_TO_API[service.role ?? ''],
      triggeredBy: triggersToApi(service.triggeredBy),
    }),
    spec: defined({ commands: service.commands, runsOn: service.runsOn, readinessTimeout: service.readinessTimeout }),
  };
}

export function taskFromFile(key: string, task: FileTask): DesiredTask {
  return {
    metadata: defined({ reference: key, name: task.name ?? key, description: task.description, triggeredBy: triggersToApi(task.triggeredBy) }),
    spec: defined({ command: task.command, runsOn: task.runsOn, prebuildRequiresSuccess: task.prebuildRequiresSuccess }),
    dependsOn: task.dependsOn ?? [],
  };
}

/** The API's resources as an automations file (dependencies by key). */
export function toAutomationsFile(services: readonly Service[], tasks: readonly Task[]): AutomationsFile {
  const keyOf = new Map<string, string>([
    ...services.map((service) => [service.id, service.metadata.reference ?? service.id] as const),
    ...tasks.map((task) => [task.id, task.metadata.reference ?? task.id] as const),
  ]);
  const file: AutomationsFile = {};
  if (services.length > 0) {
    file.services = Object.fromEntries(
      services.map((service) => {
        const triggers = triggersToFile(service.metadata.triggeredBy).filter((name) => name !== 'beforeSnapshot');
        const entry: FileService = defined({
          name: service.metadata.name,
          description: service.metadata.description,
          commands: service.spec.commands,
          role: service.metadata.role === undefined ? undefined : ROLE_TO_FILE[service.metadata.role],
          runsOn: service.spec.runsOn,
          triggeredBy: triggers.length > 0 ? (triggers as FileService['triggeredBy']) : undefined,
          readinessTimeout: service.spec.readinessTimeout,
        });
        return [service.metadata.reference ?? service.id, entry];
      }),
    );
  }
  if (tasks.length > 0) {
    file.tasks = Object.fromEntries(
      tasks.map((task) => {
        const triggers = triggersToFile(task.metadata.triggeredBy);
        const entry: FileTask = defined({
          name: task.metadata.name,
          description: task.metadata.description,
          command: task.spec.command,
          dependsOn: task.dependsOn.length > 0 ? task.dependsOn.map((id) => keyOf.get(id) ?? id) : undefined,
          runsOn: task.spec.runsOn,
          triggeredBy: triggers.length > 0 ? triggers : undefined,
          prebuildRequiresSuccess: task.spec.prebuildRequiresSuccess,
        });
        return [task.metadata.reference ?? task.id, entry];
      }),
    );
  }
  return file;
}
