import { awsErrorName, CliError, ExitCode } from '../errors.js';

/** A resource of the stack that a daily command reads or writes, named as the settings file names it. */
export type StackResource =
  | { kind: 'table'; name: string }
  | { kind: 'bucket'; name: string; role: 'source' | 'destination' }
  | { kind: 'function'; name: string };

const MISSING_HINT = 'Was the stack destroyed? `img-resizer status` shows what is missing; `img-resizer init` recreates it.';

/**
 * Turns the SDK's "not found" for a stack resource (DynamoDB's and Lambda's ResourceNotFoundException, S3's
 * NoSuchBucket) into an error that names the resource and says what to do; anything else passes through.
 */
export function explainMissing(error: unknown, resource: StackResource): unknown {
  const name = awsErrorName(error);
  const missing = resource.kind === 'bucket' ? name === 'NoSuchBucket' : name === 'ResourceNotFoundException';
  if (!missing) return error;
  const what =
    resource.kind === 'table'
      ? `The metadata table ${resource.name}`
      : resource.kind === 'bucket'
        ? `The ${resource.role} bucket ${resource.name}`
        : `The function ${resource.name}`;
  const code = resource.kind === 'table' ? 'TABLE_NOT_FOUND' : resource.kind === 'bucket' ? 'BUCKET_NOT_FOUND' : 'FUNCTION_NOT_FOUND';
  return new CliError(code, `${what} does not exist.`, { suggestion: MISSING_HINT, exitCode: ExitCode.Failed, cause: error });
}

/** Runs one call against a stack resource, explaining a "not found" as above. */
export async function onResource<T>(resource: StackResource, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainMissing(error, resource);
  }
}
