import { failedPrecondition, invalidArgument } from './errors.js';

/**
 * A control plane takes a runner's status reports in statusVersion order: true for a newer
 * report, false for a repeat of the recorded version (a runner that restarted before it knew
 * its report arrived), and an error for an older one or one without a version.
 */
export function isNewerReport(what: string, reported: string | undefined, recorded: string | undefined): boolean {
  if (reported === undefined || !/^\d{1,20}$/.test(reported)) {
    throw invalidArgument(`Invalid "status.statusVersion" "${reported ?? ''}" of ${what}: a status report needs its version (a decimal string)`);
  }
  const known = BigInt(recorded ?? '0');
  const version = BigInt(reported);
  if (version === known) return false;
  if (version < known) {
    throw failedPrecondition(`Status version ${reported} of ${what} is older than the recorded ${recorded}: reports must come in statusVersion order`);
  }
  return true;
}
