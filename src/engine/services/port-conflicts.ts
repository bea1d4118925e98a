/**
 * A service that failed because its port was taken: its output names the port (`EADDRINUSE …
 * :3000`, `listen tcp :8080: bind: address already in use`), and its failure message then names
 * who holds it, as `gitpod environment port open` does: `Port 3000 is held by pid 812 (python3 -m
 * http.server 3000), not by service "web"`.
 */
import type { PortHolder, Runtime } from '../../runtime/runtime.js';

const IN_USE = [
  /EADDRINUSE\b[^\n]*?:(\d{1,5})\b/,
  /:(\d{1,5}): bind: address already in use/i,
  /address already in use[^\n]*?:(\d{1,5})\b/i,
  /port (\d{1,5}) is already in use/i,
];

/** The port that output says was in use, if it says so. */
export function portInUse(output: string): number | null {
  for (const pattern of IN_USE) {
    const port = Number(pattern.exec(output)?.[1]);
    if (port > 0 && port < 65_536) return port;
  }
  return null;
}

export function heldBy(port: number, holder: PortHolder, service: string): string {
  return `Port ${port} is held by pid ${holder.pid} (${holder.command === '' ? 'its command line cannot be read' : holder.command}), not by service "${service}"`;
}

/** The failure message, led by who holds the port it names (when its output names one someone holds). */
export async function withPortHolder(runtime: Runtime, failure: string, output: string, service: string): Promise<string> {
  const port = portInUse(output);
  if (port === null) return failure;
  const holder = await runtime.portHolder(port).catch(() => null);
  return holder === null ? failure : `${heldBy(port, holder, service)}: ${failure}`;
}
