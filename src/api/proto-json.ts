/**
 * proto3 JSON's reading rules, between a request's raw JSON and the strict schema it must match
 * (`domain/schema.ts`), as Connect-go reads JSON (protojson with unknown fields discarded):
 *
 * - `null` for a field is "not set" (so it is left out); a `null` in a list or as a map value
 *   stays, and the schema refuses it, as protojson does;
 * - a proto field name (`environment_id`) is read as its JSON name (`environmentId`); both at once
 *   are refused;
 * - an enum may be given by its number (`3` for SERVICE_ROLE_AI_AGENT);
 * - an integer may be a decimal string (`"25"`), and a 64-bit one a number (`5`);
 * - a field this version does not know is dropped (a newer client may send it). Inside the
 *   automations file (`protoJson` marks it `unknownFields: 'error'`) it stays, so the schema
 *   refuses it: the file's own contract says unknown fields are errors.
 *
 * Map keys (`output`, the file's `services` and `tasks`) are never renamed.
 */
import type { z } from 'zod';
import { invalidArgument } from '../domain/errors.js';
import { protoJson } from '../domain/schema.js';

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
};

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

const DECIMAL = /^-?\d+$/;

/** The value as the schema's strict reading expects it; `path` names it in an error. */
export function normalizeProtoJson(schema: z.ZodType, value: unknown, strict = false, path = ''): unknown {
  const def = defOf(schema);
  const meta = protoJson.get(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return normalizeProtoJson(def.innerType!, value, strict || meta?.unknownFields === 'error', path);
    case 'pipe':
      return normalizeProtoJson(def.in!, value, strict, path);
    case 'object':
      return isRecord(value) ? normalizeObject(def.shape!, value, strict || meta?.unknownFields === 'error', path) : value;
    case 'record':
      if (!isRecord(value)) return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, item === null ? null : normalizeProtoJson(def.valueType!, item, strict, `${path}.${key}`)]),
      );
    case 'array':
      if (!Array.isArray(value)) return value;
      return value.map((item, index) => (item === null ? null : normalizeProtoJson(def.element!, item, strict, `${path}[${index}]`)));
    case 'enum': {
      const names = meta?.enumNumbers;
      if (names !== undefined && typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < names.length) return names[value];
      return value;
    }
    case 'number':
      return typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
    case 'string':
      return meta?.int64 === true && typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
    default:
      return value;
  }
}

function normalizeObject(shape: Record<string, z.ZodType>, value: Record<string, unknown>, strict: boolean, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const sentAs = new Map<string, string>();
  for (const [key, item] of Object.entries(value)) {
    const name = key in shape ? key : snakeToCamel(key) in shape ? snakeToCamel(key) : undefined;
    if (name === undefined) {
      // Unknown: dropped, except where unknown fields are errors (the schema then names it).
      if (strict) out[key] = item;
      continue;
    }
    const other = sentAs.get(name);
    if (other !== undefined) {
      const field = path === '' ? name : `${path}.${name}`;
      throw invalidArgument(`Invalid request: "${field}" was sent twice (as "${other}" and as "${key}"): send it once`);
    }
    sentAs.set(name, key);
    if (item === null) continue;
    out[name] = normalizeProtoJson(shape[name]!, item, strict, path === '' ? name : `${path}.${name}`);
  }
  return out;
}
