/**
 * A small client of a control plane that speaks the same Connect API as tend: unary JSON calls
 * and the `WatchEvents` server stream in Connect's streaming protocol (`application/connect+json`
 * envelopes, as a Connect-go control plane requires), over the platform's fetch. Failures become
 * UpstreamError, which says whether trying again can help.
 */
import { codeToHttpStatus, CONNECT_CODES, type ConnectCode } from '../domain/errors.js';

export class UpstreamError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or null when no answer came (refused, reset, timed out). */
    readonly status: number | null,
    /** The Connect code of the answer, when it had one. */
    readonly code: string,
    /** The control plane's own message, when it answered with one. */
    readonly detail = message,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /** Network failures, 5xx, 408 and 429 may pass later; any other 4xx will not. */
  get retryable(): boolean {
    return this.status === null || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/**
 * The event stream stayed silent for a while (the follower's resync period, or the HTTP client's
 * 5-minute body timeout): not a failure, but a moment to list again (a resync, as controllers
 * do), in case an event was lost.
 */
export class StreamIdle extends Error {
  constructor() {
    super('The event stream was idle');
    this.name = 'StreamIdle';
  }
}

export interface WatchEvent {
  readonly operation: string;
  readonly resourceType: string;
  readonly resourceId: string;
}

export interface ConnectClientOptions {
  /** The control plane's base URL, such as `https://cp.example/api` or `http://127.0.0.1:7777`. */
  readonly url: string;
  readonly token: string;
  /** Deadline of one unary call. */
  readonly timeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export class ConnectClient {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(options: ConnectClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  private async post(path: string, body: string | Uint8Array, signal: AbortSignal, contentType = 'application/json'): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/${path}`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${this.token}`, 'connect-protocol-version': '1' },
        body,
        signal,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new UpstreamError(`Control plane ${this.url} unreachable: ${reason}`, null, 'unavailable');
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let code = 'unknown';
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      code = parsed.code ?? code;
      message = parsed.message ?? message;
    } catch {
      // not a Connect error body (a proxy's page): keep the text
    }
    throw new UpstreamError(`${path} answered ${response.status} ${code}: ${message}`, response.status, code, message);
  }

  /** One unary call: `service` like `gitpod.v1.EnvironmentAutomationService`. */
  async call<T>(service: string, method: string, body: unknown): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.post(`${service}/${method}`, JSON.stringify(body), signal);
      return (await response.json()) as T;
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw new UpstreamError(`${service}/${method} failed: ${(error as Error).message}`, null, 'unavailable');
    }
  }

  /**
   * Opens `EventService/WatchEvents`: resolves once the control plane accepted the stream; the
   * events are read (and buffered by the socket meanwhile) when the iterator is consumed.
   */
  async watch(environmentId: string, signal: AbortSignal): Promise<AsyncIterable<WatchEvent>> {
    const response = await this.post('gitpod.v1.EventService/WatchEvents', envelope(0, { environmentId }), signal, 'application/connect+json');
    const body = response.body;
    if (body === null) throw new UpstreamError('WatchEvents answered without a body', response.status, 'unknown');
    return readEnvelopes(body);
  }
}

const END_STREAM = 0x02;

function envelope(flags: number, message: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

/** The end-stream message's error, as the UpstreamError it stands for. */
function endStreamError(message: { error?: { code?: string; message?: string } }): UpstreamError | undefined {
  if (message.error === undefined) return undefined;
  const code = (CONNECT_CODES as readonly string[]).includes(message.error.code ?? '') ? (message.error.code as ConnectCode) : 'unknown';
  const detail = message.error.message ?? '';
  return new UpstreamError(`WatchEvents ended with ${code}: ${detail}`, codeToHttpStatus(code), code, detail);
}

/** Connect streaming envelopes: `[flags u8][length u32 BE][JSON]`, until the end-stream one. */
async function* readEnvelopes(body: ReadableStream<Uint8Array>): AsyncIterable<WatchEvent> {
  let buffered = Buffer.alloc(0);
  try {
    for await (const chunk of body) {
      buffered = buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
        const flags = buffered.readUInt8(0);
        const end = 5 + buffered.readUInt32BE(1);
        const message = JSON.parse(buffered.subarray(5, end).toString('utf8')) as unknown;
        buffered = buffered.subarray(end);
        if ((flags & END_STREAM) !== 0) {
          const error = endStreamError(message as { error?: { code?: string; message?: string } });
          if (error !== undefined) throw error;
          return;
        }
        yield message as WatchEvent;
      }
    }
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    if ((error as { cause?: { code?: string } }).cause?.code === 'UND_ERR_BODY_TIMEOUT') throw new StreamIdle();
    if (error instanceof SyntaxError) throw new UpstreamError(`WatchEvents sent a message that is not JSON: ${error.message}`, null, 'unavailable');
    throw new UpstreamError(`The WatchEvents stream broke: ${(error as Error).message}`, null, 'unavailable');
  }
  throw new UpstreamError('The WatchEvents stream ended without its end-stream message', null, 'unavailable');
}
