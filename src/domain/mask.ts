/**
 * Secret masking. A multi-line secret is masked line by line as well as whole (as GitHub Actions
 * does), so that a log cut in the middle of one (a `tail`) still hides the rest of it.
 */
export const MASK = '***';

/** What to look for: every value and every line of it, longest first, without blanks or repeats. */
export function secretNeedles(secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.trim() === '') continue;
    needles.add(secret);
    for (const line of secret.split(/\r?\n/)) if (line.trim() !== '') needles.add(line);
  }
  return [...needles].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of a secret value (or of one of its lines) with `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const needle of secretNeedles(secrets)) masked = masked.split(needle).join(MASK);
  return masked;
}
