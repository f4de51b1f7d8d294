import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { ListFunctionsCommand, ListLayerVersionsCommand } from '@aws-sdk/client-lambda';
import { deleteBucket, emptyBucket } from '../../src/aws/s3.js';
import { executeDestroy as runDestroy } from '../../src/commands/destroy.js';
import { executeInit as runInit } from '../../src/commands/init.js';
import { executeStatus as runStatus } from '../../src/commands/status.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, hostArch, testArtifacts, uniqueStackName, type DeployedTestStack } from '../helpers/deploy.js';

let stack: DeployedTestStack;

beforeAll(async () => {
  stack = await deployTestStack();
});
afterAll(() => {
  stack.context.close();
});

async function inStack(globals: { yes?: boolean } = {}) {
  return localTestContext(globals, stack.cwd);
}

describe('destroy', () => {
  it('refuses to run without --yes when nobody can confirm', async () => {
    const test = await inStack({ yes: false });
    await expect(runDestroy(test.context)).rejects.toThrow(UsageError);
    expect(test.recorder.mutating()).toEqual([]);
    test.context.close();
  });

  it('keeps everything when the person at the terminal says no', async () => {
    const test = await inStack({ yes: false });
    const asked: string[] = [];
    const result = await runDestroy(test.context, {
      prompter: {
        confirm: (message) => { asked.push(message); return Promise.resolve(false); },
        input: () => Promise.reject(new Error('unused')),
        select: () => Promise.reject(new Error('unused')),
      },
    });
    expect(result.cancelled).toBe(true);
    expect(asked[0]).toContain(stack.settings.sourceBucket);
    expect(test.recorder.mutating()).toEqual([]);
    test.context.close();
  });

  it('removes everything, trigger first, emptying versioned buckets of every version and delete marker', async () => {
    const clients = await stack.context.clients();
    const { sourceBucket, destBucket } = stack.settings;
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: destBucket, VersioningConfiguration: { Status: 'Enabled' } }));
    for (let i = 0; i < 3; i++) await clients.s3.send(new PutObjectCommand({ Bucket: destBucket, Key: 'resized-a.png', Body: `v${i}` }));
    await clients.s3.send(new DeleteObjectCommand({ Bucket: destBucket, Key: 'resized-a.png' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: destBucket, Key: 'resized-b.png', Body: 'b' }));

    const test = await inStack();
    const result = await runDestroy(test.context);
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(result.resources.map((r) => `${r.resource}:${r.outcome}`)).toEqual([
      'Upload trigger:deleted',
      'Invoke permission:deleted',
      'Function:deleted',
      'sharp layer:deleted',
      'Function role:deleted',
      'Outcomes topic:deleted',
      'Failed-events queue:deleted',
      'Function log group:deleted',
      'Metadata table:deleted',
      'Source bucket policy:deleted',
      'Destination bucket policy:deleted',
      'Source bucket:deleted',
      'Destination bucket:deleted',
    ]);
    expect(result.resources.find((r) => r.resource === 'Destination bucket')?.detail).toContain('5 object versions');
    const mutating = test.recorder.mutating().map((r) => `${r.service}:${r.operation}`);
    expect(mutating[0]).toBe('s3:PutBucketNotificationConfiguration');
    expect(mutating).toContain('s3:DeleteObjects');
    test.context.close();

    expect((await clients.s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).not.toContain(sourceBucket);
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: destBucket }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect((await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).toEqual([]);
    expect((await clients.lambda.send(new ListLayerVersionsCommand({ LayerName: stack.settings.layerName }))).LayerVersions ?? []).toEqual([]);
    expect((await clients.dynamodb.send(new ListTablesCommand({}))).TableNames ?? []).toEqual([]);
    await expect(clients.iam.send(new GetRoleCommand({ RoleName: stack.settings.roleName }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('succeeds again when everything is already gone', async () => {
    const test = await inStack();
    const result = await runDestroy(test.context);
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(result.resources.every((r) => r.outcome === 'gone')).toBe(true);
    test.context.close();
  });

  it('then plans, in a dry run, to create everything, and creates nothing', async () => {
    const test = await inStack();
    const result = await runInit(test.context, { artifacts: await testArtifacts(), dryRun: true });
    // Subscriptions to --notify targets are none here (a no-op); every resource is planned for creation.
    expect(result.steps.filter((s) => s.id !== 'identity' && s.id !== 'subscriptions').map((s) => `${s.action}:${s.status}`)).toEqual(Array(15).fill('create:planned'));
    expect(test.recorder.mutating()).toEqual([]);
    expect(test.stdout()).toContain('Dry run: nothing was changed.');
    test.context.close();
  });

  it('is followed by init from nothing, which converges to a healthy stack', async () => {
    const test = await inStack();
    const result = await runInit(test.context, { artifacts: await testArtifacts() });
    expect(result.steps.filter((s) => s.id !== 'identity' && s.id !== 'subscriptions').every((s) => s.status === 'applied')).toBe(true);
    test.context.close();
    const check = await inStack();
    expect((await runStatus(check.context)).exitCode).toBe(ExitCode.Ok);
    check.context.close();
  });

  it('converges after a run interrupted half-way (a bare bucket, a role without its policy, no function)', async () => {
    const destroyed = await inStack();
    await runDestroy(destroyed.context);
    destroyed.context.close();
    const clients = await stack.context.clients();
    await clients.s3.send(new CreateBucketCommand({ Bucket: stack.settings.sourceBucket }));
    const { loadTemplate } = await import('../../src/provision/templates.js');
    await clients.iam.send(new CreateRoleCommand({ RoleName: stack.settings.roleName, AssumeRolePolicyDocument: JSON.stringify(loadTemplate('lambda-trust-policy.json')) }));

    const test = await inStack();
    const result = await runInit(test.context, { artifacts: await testArtifacts() });
    expect(result.steps.find((s) => s.id === 'source-bucket')).toMatchObject({ action: 'update', changes: expect.arrayContaining([`tag img-resizer:stack=${stack.settings.stackName}`]) as string[] });
    expect(result.steps.find((s) => s.id === 'role')).toMatchObject({ action: 'update', changes: ['inline policy img-resizer-function missing'] });
    test.context.close();
    const check = await inStack();
    expect((await runStatus(check.context)).exitCode).toBe(ExitCode.Ok);
    check.context.close();
  });

  it('with --keep-buckets keeps both buckets and their objects', async () => {
    const clients = await stack.context.clients();
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: 'keep.txt', Body: 'x' }));
    const test = await inStack();
    const result = await runDestroy(test.context, { keepBuckets: true });
    expect(result.resources.filter((r) => r.outcome === 'kept').map((r) => r.name)).toEqual([stack.settings.sourceBucket, stack.settings.destBucket]);
    await clients.s3.send(new HeadBucketCommand({ Bucket: stack.settings.sourceBucket }));
    test.context.close();
  });

  it('never empties a bucket that is not tagged as the stack\'s', async () => {
    const clients = await stack.context.clients();
    const test = await localTestContext();
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'someone-elses-bucket' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: 'someone-elses-bucket', Key: 'precious.txt', Body: 'x' }));
    const { writeSettingsFile } = await import('../../src/config/settings.js');
    await writeSettingsFile(test.context.settingsFile, { ...stack.settings, sourceBucket: 'someone-elses-bucket', destBucket: 'someone-elses-bucket', prefix: 'in/' });
    const result = await runDestroy(test.context);
    expect(result.resources.find((r) => r.resource === 'Source bucket')).toMatchObject({ name: 'someone-elses-bucket', outcome: 'kept' });
    expect(test.recorder.operations()).not.toContain('s3:DeleteObjects');
    await clients.s3.send(new HeadBucketCommand({ Bucket: 'someone-elses-bucket' }));
    test.context.close();
  });
});

describe('destroy and buckets that were not made by init', () => {
  it('empties a versioned bucket whose oldest object predates versioning (the "null" version)', async () => {
    const clients = await stack.context.clients();
    const bucket = `${uniqueStackName('null')}-bucket`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old.txt', Body: 'before versioning' }));
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'old.txt', Body: 'after' }));
    await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'old.txt' }));
    // the null version, a real version and a delete marker
    expect(await emptyBucket(clients.s3, bucket)).toBe(3);
    expect(await deleteBucket(clients.s3, bucket)).toBe(true);
  });

  it('keeps an existing bucket that already held objects when init adopted it, and removes the log group', async () => {
    const clients = await stack.context.clients();
    const photos = `${uniqueStackName('photos')}-existing`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: photos }));
    await clients.s3.send(new PutObjectCommand({ Bucket: photos, Key: 'family/2019.jpg', Body: 'precious' }));

    const adopted = await deployTestStack({ sourceBucket: photos });
    expect(adopted.result.steps.find((s) => s.id === 'source-bucket')).toMatchObject({
      action: 'update',
      changes: expect.arrayContaining(['tag img-resizer:adopted=true', 'adopt: it already holds objects, so destroy will keep it']) as string[],
    });
    const again = await localTestContext({}, adopted.cwd);
    expect((await runInit(again.context, { artifacts: await testArtifacts(), arch: hostArch() })).upToDate).toBe(true);
    again.context.close();

    const test = await localTestContext({}, adopted.cwd);
    const result = await runDestroy(test.context);
    // Kept with its objects; what init changed on it (recorded in a tag when adopted) is put back.
    expect(result.resources.find((r) => r.resource === 'Source bucket')).toMatchObject({ outcome: 'kept', detail: expect.stringContaining('restored pab=') as string });
    expect(result.resources.find((r) => r.resource === 'Destination bucket')).toMatchObject({ outcome: 'deleted' });
    expect(result.left).toEqual([]);
    expect(result.resources.find((r) => r.resource === 'Function log group')).toMatchObject({ outcome: 'deleted' });
    await clients.s3.send(new HeadObjectCommand({ Bucket: photos, Key: 'family/2019.jpg' }));
    test.context.close();
    adopted.context.close();
  });
});
