/**
 * A real HTTP proxy between a runner and its control plane (a serve-only tend), for the tests of
 * runner mode: it records every status report that passes, and can play the control plane
 * being away (503 for everything), refuse the reports of chosen resources (400) and cut or
 * refuse the event stream. Closed when the test finishes.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { TaskExecutionStatusReport } from '../../src/domain/request-schemas.js';
import { ServiceStatusReport } from '../../src/domain/schema.js';
import type { Daemon } from '../../src/app/daemon-options.js';

export interface RecordedReport {
  readonly method: 'UpdateService' | 'UpdateTaskExecutionStatus';
  readonly id: string;
  readonly phase: string;
  readonly output: Record<string, string> | undefined;
  /** The status as it was sent. */
  readonly status: Record<string, unknown>;
  /**
   * Why the report is not in the reference's shape, read strictly (an unknown field, such as a
   * statusVersion, is a problem here), or null.
   */
  readonly shapeProblem: string | null;
  /** The HTTP status the runner got. */
  readonly answered: number;
}

/** The reference's request bodies, read strictly: exactly these fields, no other. */
const StrictReports = {
  UpdateService: z.strictObject({ id: z.string(), status: ServiceStatusReport }),
  UpdateTaskExecutionStatus: z.strictObject({ id: z.string(), status: TaskExecutionStatusReport }),
};

export class FaultProxy {
  url = '';
  /**
   * `down`: every request is answered 503 (a control plane behind a gateway, away);
   * `unreachable`: every connection is reset without an answer.
   */
  mode: 'pass' | 'down' | 'unreachable' = 'pass';
  /** Event streams are answered 503 (the rest passes). */
  blockWatch = false;
  /** Methods this control plane does not have: answered 404 with a plain page, as Connect-go's mux does. */
  readonly missingMethods = new Set<string>();
  /** Status reports of these resource ids are answered with this HTTP status (400, 429, ...). */
  readonly rejectIds = new Map<string, number>();
  readonly reports: RecordedReport[] = [];
  /** The Content-Type of every WatchEvents request that passed. */
  readonly watchContentTypes: string[] = [];
  watchesOpened = 0;
  private readonly watches = new Set<ServerResponse>();
  private readonly server = createServer((request, response) => void this.handle(request, response));

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    onTestFinished(() => this.close());
    return this;
  }

  /** Ends every open event stream (the runner sees its stream break). */
  cutWatches(): void {
    for (const response of this.watches) response.destroy();
    this.watches.clear();
  }

  /** Reports of one resource that the control plane accepted, in arrival order. */
  delivered(id: string): RecordedReport[] {
    return this.reports.filter((report) => report.id === id && report.answered === 200);
  }

  async close(): Promise<void> {
    this.cutWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = request.url ?? '/';
    const method = path.split('/').pop() ?? '';
    const refuse = (status: number, code: string): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, message: `fault proxy: ${code}` }));
    };
    const isWatch = path.endsWith('/WatchEvents');
    if (isWatch) this.watchContentTypes.push(String(request.headers['content-type'] ?? ''));
    const isReport = method === 'UpdateTaskExecutionStatus' || (method === 'UpdateService' && body.includes('"status"'));
    const report = isReport ? (JSON.parse(body.toString()) as { id: string; status: { phase: string; output?: Record<string, string> } }) : undefined;
    const record = (answered: number): void => {
      if (report === undefined) return;
      const strict = StrictReports[method as RecordedReport['method']].safeParse(report);
      this.reports.push({
        method: method as RecordedReport['method'],
        id: report.id,
        phase: report.status.phase,
        output: report.status.output,
        status: report.status,
        shapeProblem: strict.success ? null : strict.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
        answered,
      });
    };
    if (this.mode === 'unreachable') {
      record(0);
      request.socket.destroy();
      return;
    }
    if (this.mode === 'down' || (isWatch && this.blockWatch)) {
      record(503);
      refuse(503, 'unavailable');
      return;
    }
    if (this.missingMethods.has(method)) {
      record(404);
      response.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const rejection = report === undefined ? undefined : this.rejectIds.get(report.id);
    if (rejection !== undefined) {
      record(rejection);
      refuse(rejection, rejection === 429 ? 'resource_exhausted' : 'invalid_argument');
      return;
    }
    const upstream = httpRequest(`${this.target}${path}`, { method: request.method, headers: { ...request.headers, host: new URL(this.target).host } });
    upstream.on('response', (answer) => {
      record(answer.statusCode ?? 0);
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      if (isWatch) {
        this.watchesOpened += 1;
        this.watches.add(response);
        response.once('close', () => {
          this.watches.delete(response);
          answer.destroy();
        });
        response.flushHeaders();
      }
      answer.pipe(response);
    });
    upstream.on('error', () => {
      if (!response.headersSent) refuse(502, 'unavailable');
      else response.destroy();
    });
    upstream.end(body);
  }
}

/** Every status a runner had for each resource, in order, as the reports would say it. */
export type StatusHistory = Map<string, string[]>;

function comparable(status: Record<string, unknown>): string {
  const { statusVersion: _version, ...rest } = status;
  const clean = Object.fromEntries(
    Object.entries(rest)
      .filter(([, value]) => value !== '' && value !== undefined)
      .map(([key, value]) =>
        key === 'output' ? [key, Object.fromEntries(Object.entries(value as Record<string, string>).filter(([, v]) => v !== ''))] : [key, value],
      )
      .filter(([key, value]) => key !== 'output' || Object.keys(value as object).length > 0)
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
  return JSON.stringify(clean, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
}

/** Records, in-process, every status change of a runner's services and executions. */
export function recordHistory(daemon: Daemon): StatusHistory {
  const history: StatusHistory = new Map();
  const add = (id: string, status: Record<string, unknown>): void => {
    history.set(id, [...(history.get(id) ?? []), comparable(status)]);
  };
  daemon.services.on('change', (kind, service) => {
    if (kind === 'status') add(service.id, service.status as Record<string, unknown>);
  });
  daemon.executions.on('execution', (kind, execution) => {
    if (kind === 'status') add(execution.id, execution.status as unknown as Record<string, unknown>);
  });
  return history;
}

/**
 * The reports of one resource are in the reference's shape, and each is a status the runner had,
 * in the order it had them: never an older one after a newer (a repeat of the same is allowed,
 * a retry). Without a history, only the shape is checked.
 */
export function checkReports(reports: readonly RecordedReport[], history?: StatusHistory): string | null {
  let at = 0;
  for (const report of reports) {
    if (report.shapeProblem !== null) return `report of ${report.id} is not in the reference's shape: ${report.shapeProblem}`;
    if (history === undefined) continue;
    const statuses = history.get(report.id) ?? [];
    const index = statuses.indexOf(comparable(report.status), at);
    if (index < 0) {
      const earlier = statuses.indexOf(comparable(report.status));
      return earlier >= 0 ? `report ${comparable(report.status)} of ${report.id} came after a newer one` : `report ${comparable(report.status)} of ${report.id} is no status the runner had`;
    }
    at = index;
  }
  return null;
}
