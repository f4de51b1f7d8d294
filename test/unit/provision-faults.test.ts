import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { triggerStep } from '../../src/provision/trigger.js';
import { AwsClients } from '../../src/aws/clients.js';
import { createFunction, type FunctionSpec } from '../../src/aws/lambda.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import { CliError } from '../../src/errors.js';
import { bucketStep } from '../../src/provision/bucket.js';
import { functionStep } from '../../src/provision/function.js';
import { defineStep, runSteps } from '../../src/provision/runner.js';
import { stackModel } from '../../src/provision/stack.js';
import type { ProvisionContext } from '../../src/provision/types.js';
import type { StackSettings } from '../../src/config/settings.js';

// Only faults the local stack cannot produce are mocked here; the rest of these cases run against it in
// test/integration/provision-faults-local.test.ts.

const s3Mock = mockClient(S3Client);
const lambdaMock = mockClient(LambdaClient);
afterEach(() => {
  s3Mock.reset();
  lambdaMock.reset();
});

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

const settings: StackSettings = {
  stackName: 'demo', sourceBucket: 'demo-source', destBucket: 'demo-dest', table: 'demo-metadata', functionName: 'demo-resize',
  roleName: 'demo-function-role', layerName: 'demo-sharp', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64',
  memory: 1024, timeout: 60,
};

function provisionContext(): ProvisionContext {
  const clients = new AwsClients({ kind: 'endpoint', region: 'us-east-1', profile: undefined, endpoint: 'http://127.0.0.1:1', endpointOverridden: true, credentials: LOCAL_CREDENTIALS });
  return {
    clients,
    stack: stackModel(settings, { account: '123456789012', partition: 'aws' }, 'us-east-1'),
    artifacts: undefined,
  };
}

const spec: FunctionSpec = {
  functionName: 'demo-resize', roleArn: 'arn:aws:iam::123456789012:role/demo-function-role', runtime: 'nodejs22.x', handler: 'index.handler',
  memory: 1024, timeout: 60, architecture: 'x86_64', layers: [], environment: {}, description: '',
};
const notAssumable = () => awsError('InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.', 400);
const fast = { minTimeoutMs: 5, maxTimeoutMs: 10, maxRetryTimeMs: 300 };

describe('IAM propagation', () => {
  // MiniStack never refuses a role as "cannot be assumed" (it validates roles only with AUTH=true, and then only
  // that they exist), so IAM propagation delay is mocked.
  it('retries CreateFunction while the new role cannot be assumed yet', async () => {
    lambdaMock.on(CreateFunctionCommand).rejectsOnce(notAssumable()).rejectsOnce(notAssumable()).resolves({ FunctionArn: 'arn:fn' });
    const attempts: number[] = [];
    const created = await createFunction(new LambdaClient({ region: 'us-east-1' }), spec, Buffer.from('zip'), {}, fast, (n) => attempts.push(n));
    expect(created.FunctionArn).toBe('arn:fn');
    expect(lambdaMock.commandCalls(CreateFunctionCommand)).toHaveLength(3);
    expect(attempts).toEqual([1, 2]);
  });

  it('gives up after the time limit and names the role', async () => {
    lambdaMock.on(CreateFunctionCommand).rejects(notAssumable());
    const error = await createFunction(new LambdaClient({ region: 'us-east-1' }), spec, Buffer.from('zip'), {}, fast).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'ROLE_NOT_ASSUMABLE' });
    expect((error as Error).message).toContain('arn:aws:iam::123456789012:role/demo-function-role');
    expect(lambdaMock.commandCalls(CreateFunctionCommand).length).toBeGreaterThan(2);
  });
});

describe('a bucket name owned by another account', () => {
  // A race: the name was free at HeadBucket and taken by CreateBucket. MiniStack answers 403 to HeadBucket for a
  // taken name, so only a mock can produce the 404-then-409 sequence.
  it('is reported clearly when CreateBucket answers BucketAlreadyExists', async () => {
    s3Mock.on(HeadBucketCommand).rejects(awsError('NotFound', 'Not Found', 404));
    s3Mock.on(CreateBucketCommand).rejects(awsError('BucketAlreadyExists', 'The requested bucket name is not available.', 409));
    const error = await runSteps(provisionContext(), [defineStep(bucketStep('dest'))], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_NAME_TAKEN' });
    expect((error as CliError).suggestion).toMatch(/--source-bucket\/--dest-bucket/);
  });
});

// MiniStack does not throttle Lambda's control plane (GetFunction).
describe('throttling', () => {
  it('that outlasts the SDK\'s own retries is reported as such, with what to do', async () => {
    lambdaMock.on(GetFunctionCommand).rejects(awsError('TooManyRequestsException', 'Rate exceeded', 429));
    const error = await runSteps(provisionContext(), [defineStep(functionStep)], { dryRun: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'THROTTLED', message: 'AWS kept throttling requests (TooManyRequestsException) at step "Function".' });
    expect((error as CliError).suggestion).toMatch(/continues where it stopped/);
  });

  it('is a failed row, not a crash, when status checks everything', async () => {
    lambdaMock.on(GetFunctionCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    const [result] = await runSteps(provisionContext(), [defineStep(functionStep)], { dryRun: true, continueOnError: true });
    expect(result).toMatchObject({ status: 'failed', error: 'THROTTLED' });
  });
});

/** An S3 error as the SDK hands it over, with the raw response's headers (where S3 puts the bucket's region). */
function s3ErrorWithRegion(name: string, status: number, region: string): Error {
  const error = awsError(name, name, status);
  Object.defineProperty(error, '$response', { value: { statusCode: status, headers: { 'x-amz-bucket-region': region } }, enumerable: false });
  return error;
}

describe('a bucket in another region', () => {
  // The 301 case runs on the local stack; a 400 needs the request to reach the bucket's own regional S3 host
  // (s3.eu-west-1.amazonaws.com), which a local endpoint is not.
  it('is named with its region (400 from a request signed for the wrong region)', async () => {
    s3Mock.on(HeadBucketCommand).rejects(s3ErrorWithRegion('BadRequest', 400, 'eu-west-1'));
    const error = await runSteps(provisionContext(), [defineStep(bucketStep('source'))], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_IN_OTHER_REGION', message: 'The bucket "demo-source" exists in eu-west-1, but the stack is in us-east-1.' });
    expect((error as CliError).suggestion).toContain('--region eu-west-1');
    expect(s3Mock.commandCalls(CreateBucketCommand)).toHaveLength(0);
  });
});

describe('creating a bucket', () => {
  // MiniStack releases a deleted bucket's name at once: it never answers OperationAborted.
  it('explains a name S3 has not released yet after a delete (OperationAborted)', async () => {
    s3Mock.on(HeadBucketCommand).rejects(awsError('NotFound', 'Not Found', 404));
    s3Mock.on(CreateBucketCommand).rejects(awsError('OperationAborted', 'A conflicting conditional operation is currently in progress against this resource.', 409));
    const error = await runSteps(provisionContext(), [defineStep(bucketStep('source'))], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_NAME_BUSY', message: expect.stringContaining('"demo-source"') as string });
  });
});

describe('a trigger that overlaps another destination', () => {
  // The plan-time check runs first; S3's own refusal comes only in a race, and MiniStack does not check overlaps.
  it('is explained when S3 itself answers "Configurations overlap"', async () => {
    s3Mock.on(GetBucketNotificationConfigurationCommand).resolves({});
    s3Mock.on(PutBucketNotificationConfigurationCommand).rejects(awsError('InvalidArgument', 'Configurations overlap. Configurations on the same bucket cannot share a common event type.', 400));
    const error = await runSteps(provisionContext(), [defineStep(triggerStep)], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRIGGER_OVERLAP' });
    expect(s3Mock.commandCalls(PutBucketNotificationConfigurationCommand)).toHaveLength(1);
  });
});
