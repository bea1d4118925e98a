import { invalidArgument } from '../domain/errors.js';
import type { EnvironmentVariableItem } from '../domain/schema.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every item has a valid name and exactly one of `value` or `valueFrom.secretRef.id`. */
export function validateEnvItems(items: readonly EnvironmentVariableItem[] | undefined, path: string): void {
  (items ?? []).forEach((item, index) => {
    const at = `${path}[${index}]`;
    const name = item.name ?? '';
    if (!ENV_NAME.test(name)) {
      throw invalidArgument(`Invalid "${at}.name" "${name}": use letters, digits and underscores, not starting with a digit`);
    }
    if (item.valueFrom !== undefined) {
      if (item.value !== undefined && item.value !== '') {
        throw invalidArgument(`Invalid "${at}": give either "value" or "valueFrom", not both`);
      }
      if ((item.valueFrom.secretRef.id ?? '') === '') {
        throw invalidArgument(`Missing "${at}.valueFrom.secretRef.id": name the secret to read`);
      }
    }
  });
}
