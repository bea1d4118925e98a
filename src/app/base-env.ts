/** The environment every command on the machine inherits: the daemon's own, less tend's secrets. */

/** Variables of the daemon that no command should see. */
const PRIVATE_VARS = ['TEND_TOKEN', 'TEND_CONTROL_PLANE_TOKEN', 'TEND_RUNNER_TOKEN', 'TEND_FAULT', 'TEND_SESSION_ID', 'TEND_INSTANCE_ID'];

export function daemonBaseEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && !PRIVATE_VARS.includes(name)) env[name] = value;
  }
  return env;
}
