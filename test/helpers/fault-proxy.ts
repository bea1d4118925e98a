/**
 * A real HTTP proxy between a runner and its control plane (a serve-only tend), for the tests of
 * runner mode: it records every status report that passes, and can play the control plane
 * being away (503 for everything), refuse the reports of chosen resources (400) and cut or
 * refuse the event stream. Closed when the test finishes.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface RecordedReport {
  readonly method: 'UpdateService' | 'UpdateTaskExecutionStatus';
  readonly id: string;
  readonly phase: string;
  readonly statusVersion: string;
  readonly output: Record<string, string> | undefined;
  /** The HTTP status the runner got. */
  readonly answered: number;
}

export class FaultProxy {
  url = '';
  /**
   * `down`: every request is answered 503 (a control plane behind a gateway, away);
   * `unreachable`: every connection is reset without an answer.
   */
  mode: 'pass' | 'down' | 'unreachable' = 'pass';
  /** Event streams are answered 503 (the rest passes). */
  blockWatch = false;
  /** Status reports of these resource ids are answered with this HTTP status (400, 429, ...). */
  readonly rejectIds = new Map<string, number>();
  readonly reports: RecordedReport[] = [];
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
    const isReport = method === 'UpdateTaskExecutionStatus' || (method === 'UpdateService' && body.includes('"status"'));
    const report = isReport ? (JSON.parse(body.toString()) as { id: string; status: { phase: string; statusVersion: string; output?: Record<string, string> } }) : undefined;
    const record = (answered: number): void => {
      if (report === undefined) return;
      this.reports.push({
        method: method as RecordedReport['method'],
        id: report.id,
        phase: report.status.phase,
        statusVersion: report.status.statusVersion,
        output: report.status.output,
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

/** Versions of one resource's reports never go back; the accepted ones strictly increase. */
export function checkOrder(reports: readonly RecordedReport[]): string | null {
  let last = -1n;
  let lastDelivered = -1n;
  for (const report of reports) {
    const version = BigInt(report.statusVersion);
    if (version < last) return `version ${report.statusVersion} sent after ${last}`;
    last = version;
    if (report.answered === 200) {
      if (version <= lastDelivered) return `version ${report.statusVersion} accepted after ${lastDelivered}`;
      lastDelivered = version;
    }
  }
  return null;
}
