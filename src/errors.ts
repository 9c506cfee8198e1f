/**
 * Internal errors with stable codes (conventions.md, "Errors"). The CLI prints
 * the message and exits non-zero; the HTTP layer maps the code to a status and
 * the body `{ error: { code, message } }`.
 */
export const ERROR_STATUS = {
  invalid_input: 422,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** For invalid input: the field of the request body at fault, named in the HTTP error's `issues`. */
  readonly field: string | undefined;
  /** For rate_limited: when to try again, sent as the HTTP header Retry-After. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, options: { field?: string; retryAfterSeconds?: number } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/**
 * A listener's port cannot be opened (taken by another program, or below 1024 without
 * the right): one line naming the port, its setting and what to do. `vitalink serve`
 * exits 2, as for a configuration mistake (README, "Commands", exit codes).
 */
export class PortUnavailableError extends Error {
  readonly variable: string;
  readonly port: number;
  constructor(variable: string, port: number, message: string) {
    super(message);
    this.name = 'PortUnavailableError';
    this.variable = variable;
    this.port = port;
  }
}
