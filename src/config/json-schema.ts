import { z } from 'zod';
import { AutomationsFile } from '../domain/file-schema.js';

/** The JSON Schema of automations.yaml, generated from the schema module (for editors). */
export function automationsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(AutomationsFile, { target: 'draft-2020-12' }),
    title: 'automations.yaml (Gitpod/Ona automations, as tend runs them)',
  };
}
