import { describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { executeInit } from '../../src/commands/init.js';
import { runDestroy } from '../../src/operations/destroy.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, hostArch, testArtifacts, uniqueStackName } from '../helpers/deploy.js';

describe('an existing bucket whose policy lets anyone read it', () => {
  it('is not locked silently: init is blocked, and goes on with --allow-lock-public-bucket, recording what it changed', async () => {
    const owner = await localTestContext();
    const clients = await owner.context.clients();
    const bucket = `${uniqueStackName('site')}-public`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'index.jpg', Body: 'public photo' }));
    const policy = { Version: '2012-10-17', Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] };
    await clients.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));

    const dry = await localTestContext();
    const planned = await executeInit(dry.context, { stackName: uniqueStackName(), sourceBucket: bucket, arch: hostArch(), artifacts: await testArtifacts(), dryRun: true });
    expect(planned.outcome).toBe('blocked');
    expect(planned.steps.find((s) => s.id === 'source-bucket')).toMatchObject({ status: 'blocked', reason: expect.stringContaining('lets anyone read its objects') as string });
    expect(dry.recorder.mutating()).toEqual([]);
    dry.context.close();

    await expect(deployTestStack({ sourceBucket: bucket })).rejects.toMatchObject({ code: 'BUCKET_PUBLICLY_READABLE' });

    const locked = await deployTestStack({ sourceBucket: bucket, allowLockPublicBucket: true });
    expect(locked.result.exitCode).toBe(0);
    const block = await clients.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    expect(block.PublicAccessBlockConfiguration?.BlockPublicPolicy).toBe(true);
    const { TagSet } = await clients.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    expect(TagSet?.find((t) => t.Key === 'img-resizer:previous-settings')?.Value).toMatch(/^pab=none enc=\S+ own=\S+$/);
    expect(TagSet).toContainEqual({ Key: 'img-resizer:adopted', Value: 'true' });
    locked.context.close();

    // destroy keeps the bucket and its objects, and puts back what init changed.
    const remover = await localTestContext({}, locked.cwd);
    const removed = await runDestroy(remover.context);
    expect(removed.resources.find((r) => r.resource === 'Source bucket')).toMatchObject({ outcome: 'kept' });
    remover.context.close();
    await expect(clients.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NoSuchPublicAccessBlockConfiguration' });
    const after = await clients.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })).then((r) => r.TagSet ?? [], () => []);
    expect(after.filter((t) => t.Key?.startsWith('img-resizer:'))).toEqual([]);
    expect(JSON.parse((await clients.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}')).toMatchObject({ Statement: [expect.objectContaining({ Sid: 'PublicRead' })] });
    await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'index.jpg' }));
    owner.context.close();
  });
});
