import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  PutFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  InvokeCommand,
  PublishLayerVersionCommand,
  RemovePermissionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListLayerVersions,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type Architecture,
  type FunctionConfiguration,
  type FunctionEventInvokeConfig,
  type LambdaClient,
  type LayerVersionsListItem,
  type Runtime,
} from '@aws-sdk/client-lambda';
import pRetry from 'p-retry';
import { CliError, awsErrorName, errorMessage } from '../errors.js';

function isNotFound(error: unknown): boolean {
  return awsErrorName(error) === 'ResourceNotFoundException';
}

/** The function's configuration, or undefined when there is no such function. */
export async function getFunction(lambda: LambdaClient, functionName: string): Promise<FunctionConfiguration | undefined> {
  try {
    return (await lambda.send(new GetFunctionCommand({ FunctionName: functionName }))).Configuration;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The settings of the function that `init` controls. */
export interface FunctionSpec {
  functionName: string;
  roleArn: string;
  runtime: Runtime;
  handler: string;
  memory: number;
  timeout: number;
  architecture: Architecture;
  layers: string[];
  environment: Record<string, string>;
  description: string;
  /** Set: the function logs JSON lines into this log group (made by init, with a retention). */
  logGroup?: string | undefined;
}

/** The fields CreateFunction and UpdateFunctionConfiguration share (architecture goes with the code). */
function configurationFields(spec: FunctionSpec) {
  return {
    FunctionName: spec.functionName,
    Role: spec.roleArn,
    Runtime: spec.runtime,
    Handler: spec.handler,
    MemorySize: spec.memory,
    Timeout: spec.timeout,
    Layers: spec.layers,
    Environment: { Variables: spec.environment },
    Description: spec.description,
    ...(spec.logGroup === undefined ? {} : { LoggingConfig: { LogFormat: 'JSON' as const, LogGroup: spec.logGroup } }),
  };
}

/** How long to keep retrying CreateFunction while a new role propagates through IAM. Injectable for tests. */
export interface PropagationRetry {
  minTimeoutMs: number;
  maxTimeoutMs: number;
  maxRetryTimeMs: number;
}

export const IAM_PROPAGATION_RETRY: PropagationRetry = { minTimeoutMs: 2_000, maxTimeoutMs: 10_000, maxRetryTimeMs: 120_000 };

/** Lambda's answer while a just-created role is not yet visible to it. */
export function isRoleNotAssumableYet(error: unknown): boolean {
  return awsErrorName(error) === 'InvalidParameterValueException' && /cannot be assumed by Lambda/i.test(errorMessage(error));
}

/**
 * Creates the function. A role created moments ago is often not yet assumable by Lambda (IAM is eventually
 * consistent), so that one error is retried with backoff for up to two minutes, then reported naming the role.
 */
export async function createFunction(
  lambda: LambdaClient,
  spec: FunctionSpec,
  zip: Buffer,
  tags: Record<string, string>,
  retry: PropagationRetry = IAM_PROPAGATION_RETRY,
  onRetry?: (attempt: number) => void,
): Promise<FunctionConfiguration> {
  const create = () =>
    lambda.send(
      new CreateFunctionCommand({
        ...configurationFields(spec),
        Architectures: [spec.architecture],
        Code: { ZipFile: zip },
        PackageType: 'Zip',
        Tags: tags,
      }),
    );
  try {
    return await pRetry(create, {
      retries: 1_000,
      factor: 1.5,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      maxRetryTime: retry.maxRetryTimeMs,
      shouldRetry: ({ error }) => isRoleNotAssumableYet(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (isRoleNotAssumableYet(error)) onRetry?.(attemptNumber);
      },
    });
  } catch (error) {
    if (isRoleNotAssumableYet(error)) {
      throw new CliError(
        'ROLE_NOT_ASSUMABLE',
        `Lambda still cannot assume the role ${spec.roleArn} after ${Math.round(retry.maxRetryTimeMs / 1000)} s.`,
        {
          suggestion: 'New IAM roles usually propagate within a minute: run `img-resizer init` again. If it persists, check that the role trusts lambda.amazonaws.com.',
          cause: error,
        },
      );
    }
    throw error;
  }
}

export async function updateFunctionCode(lambda: LambdaClient, functionName: string, zip: Buffer, architecture: Architecture): Promise<void> {
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: zip, Architectures: [architecture] }));
}

export async function updateFunctionConfiguration(lambda: LambdaClient, spec: FunctionSpec): Promise<void> {
  await lambda.send(
    new UpdateFunctionConfigurationCommand(configurationFields(spec)),
  );
}

/** Changes the function's memory alone (tune); wait for LastUpdateStatus Successful before invoking. */
export async function updateFunctionMemory(lambda: LambdaClient, functionName: string, memoryMb: number): Promise<void> {
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, MemorySize: memoryMb }));
}

export interface TailedInvocation {
  /** Set when the function threw or timed out, from the X-Amz-Function-Error header. */
  functionError: string | undefined;
  /** The function's response (its error document when it failed). */
  payload: string;
  /** The last 4 KB of the invocation's log (LogType Tail), decoded; '' when the service sent none. */
  logTail: string;
}

/** One synchronous invocation that also asks for the tail of its log, where Lambda writes the REPORT line. */
export async function invokeWithLogTail(lambda: LambdaClient, functionName: string, payload: unknown): Promise<TailedInvocation> {
  const response = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', LogType: 'Tail', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
  );
  return {
    functionError: response.FunctionError,
    payload: response.Payload ? new TextDecoder().decode(response.Payload) : '',
    logTail: response.LogResult ? Buffer.from(response.LogResult, 'base64').toString('utf8') : '',
  };
}

/** Waits until State is Active (after CreateFunction). */
export async function waitForFunctionActive(lambda: LambdaClient, functionName: string, maxWaitTime = 300): Promise<void> {
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime, minDelay: 1, maxDelay: 5 }, { FunctionName: functionName });
}

/** Waits until LastUpdateStatus is Successful (after each update). */
export async function waitForFunctionUpdated(lambda: LambdaClient, functionName: string, maxWaitTime = 300): Promise<void> {
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime, minDelay: 1, maxDelay: 5 }, { FunctionName: functionName });
}

/** Deletes the function; false when it was already gone. */
export async function deleteFunction(lambda: LambdaClient, functionName: string): Promise<boolean> {
  try {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: functionName }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** One statement of a function's resource policy, as GetPolicy returns it. */
export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: string | Record<string, string | string[]>;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The function's resource-policy statements; [] when it has none, undefined when the function is gone. */
export async function getPolicyStatements(lambda: LambdaClient, functionName: string): Promise<PolicyStatement[] | undefined> {
  try {
    const response = await lambda.send(new GetPolicyCommand({ FunctionName: functionName }));
    const policy = JSON.parse(response.Policy ?? '{}') as { Statement?: PolicyStatement[] };
    return policy.Statement ?? [];
  } catch (error) {
    if (!isNotFound(error)) throw error;
    // AWS answers ResourceNotFoundException both for "no function" and "no policy": tell them apart.
    return (await getFunction(lambda, functionName)) === undefined ? undefined : [];
  }
}

export interface InvokePermission {
  functionName: string;
  statementId: string;
  principal: string;
  sourceArn: string;
  sourceAccount: string;
}

export async function addInvokePermission(lambda: LambdaClient, permission: InvokePermission): Promise<void> {
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: permission.functionName,
      StatementId: permission.statementId,
      Action: 'lambda:InvokeFunction',
      Principal: permission.principal,
      SourceArn: permission.sourceArn,
      SourceAccount: permission.sourceAccount,
    }),
  );
}

/** Removes one statement; false when it (or the function) was already gone. */
export async function removePermission(lambda: LambdaClient, functionName: string, statementId: string): Promise<boolean> {
  try {
    await lambda.send(new RemovePermissionCommand({ FunctionName: functionName, StatementId: statementId }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Every version of a layer, newest first. */
export async function listLayerVersions(lambda: LambdaClient, layerName: string): Promise<LayerVersionsListItem[]> {
  const versions: LayerVersionsListItem[] = [];
  try {
    for await (const page of paginateListLayerVersions({ client: lambda }, { LayerName: layerName })) {
      versions.push(...(page.LayerVersions ?? []));
    }
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return versions.sort((a, b) => (b.Version ?? 0) - (a.Version ?? 0));
}

export async function publishLayerVersion(
  lambda: LambdaClient,
  input: { layerName: string; zip: Buffer; description: string; runtime: Runtime; architecture: Architecture },
): Promise<{ layerVersionArn: string; version: number }> {
  const response = await lambda.send(
    new PublishLayerVersionCommand({
      LayerName: input.layerName,
      Description: input.description,
      Content: { ZipFile: input.zip },
      CompatibleRuntimes: [input.runtime],
      CompatibleArchitectures: [input.architecture],
      LicenseInfo: 'Apache-2.0 (sharp), LGPL-3.0-or-later (libvips)',
    }),
  );
  return { layerVersionArn: response.LayerVersionArn ?? '', version: response.Version ?? 0 };
}

export async function deleteLayerVersion(lambda: LambdaClient, layerName: string, version: number): Promise<void> {
  try {
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: layerName, VersionNumber: version }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** What happens to an event the function failed on when invoked asynchronously (by S3). */
export interface AsyncInvokeSettings {
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  /** Where events go once retries or age run out. */
  onFailureArn: string;
}

/** The function's async invoke configuration, or undefined when it has none (or no function). */
export async function getEventInvokeConfig(lambda: LambdaClient, functionName: string): Promise<FunctionEventInvokeConfig | undefined> {
  try {
    return await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: functionName }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function putEventInvokeConfig(lambda: LambdaClient, functionName: string, settings: AsyncInvokeSettings): Promise<void> {
  await lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: functionName,
      MaximumRetryAttempts: settings.maximumRetryAttempts,
      MaximumEventAgeInSeconds: settings.maximumEventAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: settings.onFailureArn } },
    }),
  );
}
