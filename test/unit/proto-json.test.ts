/** proto3 JSON's reading rules on their own, and the enum numbers they rely on. */
import { describe, expect, it } from 'vitest';
import { normalizeProtoJson } from '../../src/api/proto-json.js';
import { nestingDepth } from '../../src/api/request-body.js';
import { parseAutomations } from '../../src/config/load-file.js';
import { InvalidAutomationsFile } from '../../src/config/problem.js';
import { PRINCIPALS, SERVICE_PHASES, SERVICE_ROLES, TASK_EXECUTION_PHASES } from '../../src/domain/enums.js';
import { CreateServiceRequest, UpsertAutomationsFileRequest } from '../../src/domain/request-schemas.js';

describe('enum numbers', () => {
  it('are the proto numbers of gitpod.v1 (index = number)', () => {
    const names = (values: readonly string[], prefix: string) => values.map((value) => value.replace(prefix, ''));
    expect(names(SERVICE_PHASES, 'SERVICE_PHASE_')).toEqual(['UNSPECIFIED', 'STARTING', 'RUNNING', 'STOPPING', 'STOPPED', 'FAILED', 'DELETED']);
    expect(names(SERVICE_ROLES, 'SERVICE_ROLE_')).toEqual(['UNSPECIFIED', 'DEFAULT', 'EDITOR', 'AI_AGENT', 'SECURITY_AGENT']);
    expect(names(TASK_EXECUTION_PHASES, 'TASK_EXECUTION_PHASE_')).toEqual(['UNSPECIFIED', 'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'STOPPED']);
    expect(names(PRINCIPALS, 'PRINCIPAL_')).toEqual(['UNSPECIFIED', 'ACCOUNT', 'USER', 'RUNNER', 'ENVIRONMENT', 'SERVICE_ACCOUNT', 'RUNNER_MANAGER']);
  });
});

describe('normalizeProtoJson', () => {
  it('renames proto names, drops nulls and unknown fields, reads enum numbers and integer strings, never renames map keys', () => {
    const normalized = normalizeProtoJson(CreateServiceRequest, {
      environment_id: 'e',
      future: 1,
      metadata: { reference: 'r', role: 2, description: null, triggered_by: [{ post_devcontainer_start: true }] },
      spec: { spec_version: 7, desired_phase: 4, env: [{ name: 'A', value_from: { secret_ref: { id: 's' } } }], runs_on: { machine: { x: 1 } } },
    });
    expect(normalized).toEqual({
      environmentId: 'e',
      metadata: { reference: 'r', role: 'SERVICE_ROLE_EDITOR', triggeredBy: [{ postDevcontainerStart: true }] },
      spec: { specVersion: '7', desiredPhase: 'SERVICE_PHASE_STOPPED', env: [{ name: 'A', valueFrom: { secretRef: { id: 's' } } }], runsOn: { machine: {} } },
    });
    const file = normalizeProtoJson(UpsertAutomationsFileRequest, {
      automations_file: { services: { my_web: { commands: { start: 'x' }, triggered_by: ['manual'], colour: 'red', description: null } } },
    });
    // Keys of a map stay as written; inside the file an unknown field stays (for the schema to refuse).
    expect(file).toEqual({ automationsFile: { services: { my_web: { commands: { start: 'x' }, triggeredBy: ['manual'], colour: 'red' } } } });
  });

  it('refuses a field sent under both of its names', () => {
    expect(() => normalizeProtoJson(CreateServiceRequest, { environmentId: 'a', environment_id: 'a' })).toThrow('"environmentId" was sent twice');
  });
});

describe('nesting', () => {
  it('is measured outside strings, in one pass', () => {
    expect(nestingDepth('{"a":[{"b":"[[[{{{"}]}', 64)).toBe(3);
    expect(nestingDepth('"\\"{"', 64)).toBe(0);
    expect(nestingDepth('['.repeat(100_000), 64)).toBe(65);
  });
});

describe('the automations file stays strict', () => {
  it('refuses fields inside runsOn.machine, an empty message in the reference', () => {
    const text = 'services:\n  web:\n    commands:\n      start: x\n    runsOn:\n      machine:\n        size: xl\n';
    let problems: readonly { path: string; message: string; line: number }[] = [];
    try {
      parseAutomations(text, 'automations.yaml');
    } catch (error) {
      problems = (error as InvalidAutomationsFile).problems;
    }
    expect(problems).toEqual([expect.objectContaining({ path: 'services.web.runsOn.machine.size', line: 7, message: 'Unknown field "size"' })]);
    expect(parseAutomations('services:\n  web:\n    commands:\n      start: x\n    runsOn:\n      machine: {}\n', 'a.yaml').file.services?.web?.runsOn).toEqual({ machine: {} });
  });
});
