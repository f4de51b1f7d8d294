import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import pRetry from 'p-retry';
import { awsErrorName } from '../errors.js';

export interface InvokeResult {
  /** Set when the function threw or timed out ("Unhandled"), from the X-Amz-Function-Error header. */
  functionError: string | undefined;
  /** The function's error message, when it failed. */
  errorMessage: string | undefined;
  /** Attempts made, throttled ones included. */
  attempts: number;
}

export interface InvokeRetryOptions {
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/** Lambda's answer when the function's or the account's concurrency is used up. */
export function isThrottle(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'TooManyRequestsException' || name === 'ThrottlingException' || name === 'EC2ThrottledException';
}

/**
 * Invokes the function synchronously (RequestResponse) with a JSON payload. Throttled invokes are retried with
 * exponential backoff and jitter on top of the SDK's own retries, so a backfill that outruns the concurrency
 * limit slows down instead of failing; any other error is the caller's.
 */
export async function invokeSynchronously(
  lambda: LambdaClient,
  functionName: string,
  payload: unknown,
  options: InvokeRetryOptions = {},
): Promise<InvokeResult> {
  let attempts = 0;
  const body = new TextEncoder().encode(JSON.stringify(payload));
  // The caller's signal cuts a back-off short, but never discards an invoke that ran: p-retry, given the signal
  // itself, would throw away a result that arrives after the abort. So p-retry gets a signal that fires only
  // while no request is in flight.
  const interrupted = (): DOMException => new DOMException('Interrupted while backing off from throttling.', 'AbortError');
  const backoff = new AbortController();
  let inFlight = false;
  const onAbort = (): void => { if (!inFlight) backoff.abort(interrupted()); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let response: InvokeCommandOutput;
  try {
    response = await pRetry(
      async () => {
        attempts++;
        inFlight = true;
        try {
          return await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: body }));
        } catch (error) {
          // Throttled after the interruption: stop here rather than back off again.
          if (isThrottle(error) && options.signal?.aborted) throw interrupted();
          throw error;
        } finally {
          inFlight = false;
        }
      },
      {
        retries: options.retries ?? 8,
        minTimeout: options.minTimeoutMs ?? 500,
        maxTimeout: options.maxTimeoutMs ?? 20_000,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => isThrottle(error),
        signal: backoff.signal,
      },
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (!response.FunctionError) return { functionError: undefined, errorMessage: undefined, attempts };
  return { functionError: response.FunctionError, errorMessage: describeFunctionError(response.Payload), attempts };
}

/** The function's error payload is {"errorType", "errorMessage", ...}; fall back to the raw text. */
function describeFunctionError(payload: Uint8Array | undefined): string | undefined {
  if (!payload || payload.length === 0) return undefined;
  const text = new TextDecoder().decode(payload);
  try {
    const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    const type = typeof parsed.errorType === 'string' ? parsed.errorType : undefined;
    const message = typeof parsed.errorMessage === 'string' ? parsed.errorMessage : undefined;
    if (type && message) return `${type}: ${message}`;
    return message ?? type ?? text.slice(0, 500);
  } catch {
    return text.slice(0, 500);
  }
}
