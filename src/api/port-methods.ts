/**
 * tend's own DaemonService methods for the environment's ports, as the `gitpod environment port`
 * commands inside commands call them: `OpenPort {port, name?, runId?}` (failed_precondition while
 * nothing listens on the port), `ListPorts {}`, `ClosePort {port}`.
 */
import { z } from 'zod';
import type { PortRegistry } from '../engine/ports.js';
import { parseBody } from './connect.js';

const Port = z.number().int().min(1).max(65_535);
const OpenPortRequest = z.strictObject({ port: Port, name: z.string().max(128).optional(), runId: z.string().max(128).optional() });
const ListPortsRequest = z.strictObject({});
const ClosePortRequest = z.strictObject({ port: Port });

export type DaemonMethod = (body: unknown) => unknown;

export function portMethods(ports: PortRegistry): Readonly<Record<string, DaemonMethod>> {
  return {
    OpenPort: (body) => ({ port: ports.open(parseBody(OpenPortRequest, body)) }),
    ListPorts: (body) => {
      parseBody(ListPortsRequest, body);
      return { ports: ports.list() };
    },
    ClosePort: (body) => ({ closed: ports.close(parseBody(ClosePortRequest, body).port) }),
  };
}
