/**
 * tend's own DaemonService methods for the environment's ports, as the `gitpod environment port`
 * commands inside commands call them: `OpenPort {port, name?, runId?}` (failed_precondition while
 * nothing listens on the port, or another process than the asking service's holds it), `ListPorts
 * {}` (the ports found among running services' sockets and the recorded ones), `ClosePort {port}`.
 */
import type { PortRegistry } from '../engine/ports.js';
import { parseRequest } from './parse-request.js';

export type DaemonMethod = (body: unknown) => unknown;

export function portMethods(ports: PortRegistry): Readonly<Record<string, DaemonMethod>> {
  return {
    OpenPort: async (body) => ({ port: await ports.open(await parseRequest('OpenPortRequest', body)) }),
    ListPorts: async (body) => {
      await parseRequest('ListPortsRequest', body);
      return { ports: await ports.list() };
    },
    ClosePort: async (body) => ({ closed: ports.close((await parseRequest('ClosePortRequest', body)).port) }),
  };
}
