/**
 * Errors of the HTTP API. Each carries the status and a stable upper-case code that clients branch on; the
 * message is for people. Only these reach a response: anything else becomes a bare 500 (no stack, no detail).
 */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  /** Extra response headers (Retry-After, Allow). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields of the error object (the allowed presets of an unknown one). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(statusCode: number, code: string, message: string, options: { headers?: Record<string, string>; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }
}

export const badRequest = (code: string, message: string): ApiError => new ApiError(400, code, message);
export const notFound = (code: string, message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(404, code, message, details === undefined ? {} : { details });
