/**
 * The one error catalog. Every failure that reaches a client is an ApiError with a Connect code;
 * anything else thrown becomes `internal`, its cause logged but never sent.
 */

export const CONNECT_CODES = [
  'canceled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
] as const;
export type ConnectCode = (typeof CONNECT_CODES)[number];

/** The HTTP status Connect pairs with each code (connectrpc.com/docs/protocol#error-codes). */
export function codeToHttpStatus(code: ConnectCode): number {
  switch (code) {
    case 'canceled':
      return 499;
    case 'unknown':
      return 500;
    case 'invalid_argument':
      return 400;
    case 'deadline_exceeded':
      return 504;
    case 'not_found':
      return 404;
    case 'already_exists':
      return 409;
    case 'permission_denied':
      return 403;
    case 'resource_exhausted':
      return 429;
    case 'failed_precondition':
      return 400;
    case 'aborted':
      return 409;
    case 'out_of_range':
      return 400;
    case 'unimplemented':
      return 501;
    case 'internal':
      return 500;
    case 'unavailable':
      return 503;
    case 'data_loss':
      return 500;
    case 'unauthenticated':
      return 401;
  }
}

/**
 * Whether a client may usefully send the same request again. The official SDK retries 409, 429
 * and 5xx unless told `x-should-retry: false`; only a daemon that is briefly unavailable is worth
 * another try.
 */
export function isRetryable(code: ConnectCode): boolean {
  return code === 'unavailable' || code === 'deadline_exceeded';
}

export interface ApiErrorOptions {
  readonly cause?: unknown;
  /**
   * An HTTP status Connect answers without a code of its own (415 for a content type it does not
   * take, 405 for a GET on a method that is not idempotent); default: the code's status.
   */
  readonly httpStatus?: number;
  /** Headers that say what would be taken (`Accept-Post`, `Allow`, `Accept-Encoding`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export class ApiError extends Error {
  readonly code: ConnectCode;
  readonly httpStatus: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ConnectCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ApiError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? codeToHttpStatus(code);
    this.headers = options.headers ?? {};
  }
}

export const invalidArgument = (message: string): ApiError => new ApiError('invalid_argument', message);
export const notFound = (message: string): ApiError => new ApiError('not_found', message);
export const alreadyExists = (message: string): ApiError => new ApiError('already_exists', message);
export const failedPrecondition = (message: string): ApiError =>
  new ApiError('failed_precondition', message);
export const permissionDenied = (message: string): ApiError => new ApiError('permission_denied', message);
