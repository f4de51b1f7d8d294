/** Exit codes of the command-line contract. */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Drift: 3,
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliErrorOptions {
  /** What the operator can do about it, printed under the message. */
  suggestion?: string;
  exitCode?: ExitCode;
  cause?: unknown;
}

/**
 * A domain error: a stable upper-case code, a message for people and an optional suggestion.
 * Only the entry point turns it into an exit code; stack traces are shown with --debug alone.
 */
export class CliError extends Error {
  readonly code: string;
  readonly suggestion: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.suggestion = options.suggestion;
    this.exitCode = options.exitCode ?? ExitCode.Failed;
  }
}

/** Invalid flags, settings or input: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, suggestion?: string) {
    super('USAGE', message, { exitCode: ExitCode.Usage, ...(suggestion === undefined ? {} : { suggestion }) });
    this.name = 'UsageError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The AWS SDK's error name (e.g. NoSuchBucket), or undefined for non-SDK errors. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string') {
    return error.name;
  }
  return undefined;
}

export function awsHttpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return metadata?.httpStatusCode;
  }
  return undefined;
}
