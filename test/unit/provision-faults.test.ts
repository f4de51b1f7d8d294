import { PassThrough } from 'node:stream';
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
import { createBucket, putNotificationConfiguration } from '../../src/aws/s3.js';
import { triggerStep } from '../../src/provision/trigger.js';
import { AwsClients } from '../../src/aws/clients.js';
import { createFunction, type FunctionSpec } from '../../src/aws/lambda.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import { CliError } from '../../src/errors.js';
import { bucketStep } from '../../src/provision/bucket.js';
import { functionStep } from '../../src/provision/function.js';
import { runSteps } from '../../src/provision/runner.js';
import { stackModel } from '../../src/provision/stack.js';
import type { ProvisionContext } from '../../src/provision/types.js';
import { Output } from '../../src/ui/output.js';
import type { StackSettings } from '../../src/config/settings.js';

// Faults the local stack cannot produce: IAM propagation delay, a bucket name owned by another account, throttling.

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
    output: new Output({ json: false, debug: false, stdout: new PassThrough(), stderr: new PassThrough(), interactive: false }),
    dryRun: false,
    artifacts: undefined,
    outputs: {},
  };
}

const spec: FunctionSpec = {
  functionName: 'demo-resize', roleArn: 'arn:aws:iam::123456789012:role/demo-function-role', runtime: 'nodejs22.x', handler: 'index.handler',
  memory: 1024, timeout: 60, architecture: 'x86_64', layers: [], environment: {}, description: '',
};
const notAssumable = () => awsError('InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.', 400);
const fast = { minTimeoutMs: 5, maxTimeoutMs: 10, maxRetryTimeMs: 300 };

describe('IAM propagation', () => {
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

  it('does not retry other CreateFunction errors', async () => {
    lambdaMock.on(CreateFunctionCommand).rejects(awsError('InvalidParameterValueException', 'Unzipped size must be smaller than 262144000 bytes', 400));
    await expect(createFunction(new LambdaClient({ region: 'us-east-1' }), spec, Buffer.from('zip'), {}, fast)).rejects.toThrow(/Unzipped size/);
    expect(lambdaMock.commandCalls(CreateFunctionCommand)).toHaveLength(1);
  });
});

describe('a bucket name owned by another account', () => {
  it('is reported clearly when HeadBucket answers 403', async () => {
    s3Mock.on(HeadBucketCommand).rejects(awsError('Forbidden', 'Forbidden', 403));
    const error = await runSteps(provisionContext(), [bucketStep('source')], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_NAME_TAKEN', message: expect.stringContaining('The bucket name "demo-source" belongs to another AWS account') as string });
    expect(s3Mock.commandCalls(CreateBucketCommand)).toHaveLength(0);
  });

  it('is reported clearly when CreateBucket answers BucketAlreadyExists', async () => {
    s3Mock.on(HeadBucketCommand).rejects(awsError('NotFound', 'Not Found', 404));
    s3Mock.on(CreateBucketCommand).rejects(awsError('BucketAlreadyExists', 'The requested bucket name is not available.', 409));
    const error = await runSteps(provisionContext(), [bucketStep('dest')], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_NAME_TAKEN' });
    expect((error as CliError).suggestion).toMatch(/--source-bucket\/--dest-bucket/);
  });
});

describe('throttling', () => {
  it('that outlasts the SDK\'s own retries is reported as such, with what to do', async () => {
    lambdaMock.on(GetFunctionCommand).rejects(awsError('TooManyRequestsException', 'Rate exceeded', 429));
    const error = await runSteps(provisionContext(), [functionStep], { dryRun: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'THROTTLED', message: 'AWS kept throttling requests (TooManyRequestsException) at step "Function".' });
    expect((error as CliError).suggestion).toMatch(/continues where it stopped/);
  });

  it('is a failed row, not a crash, when status checks everything', async () => {
    lambdaMock.on(GetFunctionCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    const [result] = await runSteps(provisionContext(), [functionStep], { dryRun: true, continueOnError: true });
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
  it.each([
    ['301 PermanentRedirect', 301],
    ['400 from a request signed for the wrong region', 400],
  ])('is named with its region (%s)', async (_label, status) => {
    s3Mock.on(HeadBucketCommand).rejects(s3ErrorWithRegion(status === 301 ? 'PermanentRedirect' : 'BadRequest', status, 'eu-west-1'));
    const error = await runSteps(provisionContext(), [bucketStep('source')], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_IN_OTHER_REGION', message: 'The bucket "demo-source" exists in eu-west-1, but the stack is in us-east-1.' });
    expect((error as CliError).suggestion).toContain('--region eu-west-1');
    expect(s3Mock.commandCalls(CreateBucketCommand)).toHaveLength(0);
  });
});

describe('creating a bucket', () => {
  it('sends a LocationConstraint outside us-east-1 only', async () => {
    s3Mock.on(CreateBucketCommand).resolves({});
    const s3 = new S3Client({ region: 'us-east-1' });
    await createBucket(s3, 'a-bucket', 'us-east-1');
    await createBucket(s3, 'a-bucket', 'eu-west-1');
    const [east, west] = s3Mock.commandCalls(CreateBucketCommand).map((call) => call.args[0].input);
    expect(east?.CreateBucketConfiguration).toBeUndefined();
    expect(west?.CreateBucketConfiguration).toEqual({ LocationConstraint: 'eu-west-1' });
  });

  it('explains a name S3 has not released yet after a delete (OperationAborted)', async () => {
    s3Mock.on(HeadBucketCommand).rejects(awsError('NotFound', 'Not Found', 404));
    s3Mock.on(CreateBucketCommand).rejects(awsError('OperationAborted', 'A conflicting conditional operation is currently in progress against this resource.', 409));
    const error = await runSteps(provisionContext(), [bucketStep('source')], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BUCKET_NAME_BUSY', message: expect.stringContaining('"demo-source"') as string });
  });
});

describe('a trigger that overlaps another destination', () => {
  const queue = { Id: 'thumbnails-v1', QueueArn: 'arn:aws:sqs:us-east-1:123456789012:thumbs', Events: ['s3:ObjectCreated:*' as const] };

  it('is refused at plan time, before anything changes, naming the other entry', async () => {
    s3Mock.on(GetBucketNotificationConfigurationCommand).resolves({ QueueConfigurations: [queue] });
    const error = await runSteps(provisionContext(), [triggerStep], { dryRun: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRIGGER_OVERLAP', message: expect.stringContaining('"thumbnails-v1" → arn:aws:sqs:us-east-1:123456789012:thumbs') as string });
    expect(s3Mock.commandCalls(PutBucketNotificationConfigurationCommand)).toHaveLength(0);
  });

  it('is explained when S3 itself answers "Configurations overlap"', async () => {
    s3Mock.on(GetBucketNotificationConfigurationCommand).resolves({});
    s3Mock.on(PutBucketNotificationConfigurationCommand).rejects(awsError('InvalidArgument', 'Configurations overlap. Configurations on the same bucket cannot share a common event type.', 400));
    const error = await runSteps(provisionContext(), [triggerStep], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRIGGER_OVERLAP' });
    expect(s3Mock.commandCalls(PutBucketNotificationConfigurationCommand)).toHaveLength(1);
  });

  it('destroy\'s removal skips destination validation, so another tool\'s dead destination cannot block it', async () => {
    s3Mock.on(PutBucketNotificationConfigurationCommand).resolves({});
    await putNotificationConfiguration(new S3Client({ region: 'us-east-1' }), 'b', {}, { skipDestinationValidation: true });
    expect(s3Mock.commandCalls(PutBucketNotificationConfigurationCommand)[0]?.args[0].input.SkipDestinationValidation).toBe(true);
  });
});
