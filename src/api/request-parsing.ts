/**
 * A request body checked against its schema: read by proto3 JSON's rules first (`proto-json.ts`:
 * null, proto names, enum numbers, unknown fields dropped), then checked strictly, so a wrong
 * type or an unknown enum name is refused with its path. Loaded with the schemas on the first
 * request that has a body to check (`parse-request.ts`), never at the daemon's start.
 */
import type { z } from 'zod';
import { checkFileData } from '../config/check-file-data.js';
import { pathText } from '../config/problem.js';
import { invalidArgument } from '../domain/errors.js';
import type { AutomationsFile } from '../domain/file-schema.js';
import * as requestSchemas from '../domain/request-schemas.js';
import { normalizeProtoJson } from './proto-json.js';

export { requestSchemas };

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One line per problem: `"metadata.role": Invalid option: expected one of ...`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = formatPath(issue.path);
      if (issue.code === 'unrecognized_keys') {
        const where = path === '' ? 'the request' : `"${path}"`;
        return `Unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} in ${where}`;
      }
      return path === '' ? issue.message : `"${path}": ${issue.message}`;
    })
    .join('; ');
}

/** The body as `schema` reads it, or invalid_argument naming every problem. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('Invalid request: the body must be a JSON object');
  }
  const result = schema.safeParse(normalizeProtoJson(schema, body));
  if (!result.success) throw invalidArgument(`Invalid request: ${describeIssues(result.error.issues)}`);
  return result.data;
}


const UpsertEnvelope = requestSchemas.UpsertAutomationsFileRequest.omit({ automationsFile: true });

/**
 * UpsertAutomationsFile's file, checked whole (its shape and the checks beyond it, every problem
 * at once, as `tend validate` reports them). A request without a file is refused: it would
 * delete everything an earlier file made.
 */
export function automationsFileOf(body: unknown): { environmentId?: string; file: AutomationsFile } {
  const { environmentId } = parseBody(UpsertEnvelope, body);
  const { automationsFile } = normalizeProtoJson(requestSchemas.UpsertAutomationsFileRequest, body) as { automationsFile?: unknown };
  if (automationsFile === undefined) {
    throw invalidArgument('Missing "automationsFile": send the file to apply ({"automationsFile": {}} applies an empty file, which removes what earlier files made)');
  }
  const checked = checkFileData(automationsFile);
  if (checked.file === undefined) {
    throw invalidArgument(`Invalid automations file: ${checked.problems.map((problem) => `${pathText(problem.path)}: ${problem.message}`).join('; ')}`);
  }
  return { ...(environmentId !== undefined ? { environmentId } : {}), file: checked.file };
}
