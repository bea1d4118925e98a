/**
 * GITPOD_OUTPUT files: `key=value` lines; a later line wins; an empty value unsets the key.
 * Lines without `=` or with a key that is not `[A-Za-z0-9_.-]+` are ignored.
 */
const KEY = /^[A-Za-z0-9_.-]{1,128}$/;
export const MAX_OUTPUT_BYTES = 64 * 1024;

export function parseOutput(text: string): Record<string, string> {
  const output: Record<string, string> = {};
  for (const line of text.slice(0, MAX_OUTPUT_BYTES).split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    if (!KEY.test(key)) continue;
    const value = line.slice(at + 1).replace(/\r$/, '');
    if (value === '') delete output[key];
    else output[key] = value;
  }
  return output;
}
