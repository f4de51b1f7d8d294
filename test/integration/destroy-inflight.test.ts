import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadBucketCommand, ListBucketsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { executeDestroy } from '../../src/commands/destroy.js';
import { executeStatus } from '../../src/commands/status.js';
import { ExitCode } from '../../src/errors.js';
import { runInit } from '../../src/operations/init.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, hostArch, testArtifacts, type DeployedTestStack } from '../helpers/deploy.js';

let stack: DeployedTestStack;

beforeAll(async () => {
  stack = await deployTestStack();
});
afterAll(() => {
  stack.context.close();
});

/**
 * Before each of the first `times` DeleteBucket requests for `bucket` the client sends, lands one more object in
 * it through another client: an upload, or a function run writing its output, between emptying and deleting.
 */
function landObjectBeforeDeleteBucket(client: S3Client, writer: S3Client, bucket: string, times: number): { landed: () => number } {
  let landed = 0;
  (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
    (next: (args: { input: { Bucket?: string } }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: { Bucket?: string } }) => {
      if (context.commandName === 'DeleteBucketCommand' && args.input.Bucket === bucket && landed < times) {
        landed++;
        await writer.send(new PutObjectCommand({ Bucket: bucket, Key: `uploads/late-${landed}.jpg`, Body: 'late' }));
      }
      return next(args);
    },
    { step: 'initialize', name: `landBefore${bucket}` },
  );
  return { landed: () => landed };
}

/** Writes objects into a bucket every few milliseconds until stopped, as function runs still finishing would. */
function keepWriting(writer: S3Client, bucket: string, count: number): Promise<number> {
  return (async () => {
    let written = 0;
    for (let i = 0; i < count; i++) {
      // Once the bucket is gone the writes fail, as a late function run's would: that is expected here.
      await writer.send(new PutObjectCommand({ Bucket: bucket, Key: `resized/inflight-${i}.png`, Body: 'png' })).then(() => written++, () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return written;
  })();
}

// Waits long enough (0.2 + 0.4 + 0.8 + 1 s) for the writer below to finish, as in-flight runs do; short for a test.
const fastRetry = { attempts: 5, minDelayMs: 200, maxDelayMs: 1_000 };

describe('destroy --dry-run', () => {
  it('prints per-step results of what would be removed and sends no request that changes state', async () => {
    const test = await localTestContext({ json: true, yes: false }, stack.cwd);
    const result = await executeDestroy(test.context, { dryRun: true });
    test.context.close();
    expect(test.recorder.mutating()).toEqual([]);
    const document = JSON.parse(test.stdout()) as { dryRun: boolean; steps: { id: string; action: string; status: string; ops: { kind: string }[] }[] };
    expect(document.dryRun).toBe(true);
    expect(document.steps.map((s) => `${s.id}:${s.action}:${s.status}`)).toEqual([
      'trigger:delete:planned',
      'permission:delete:planned',
      'function:delete:planned',
      'layer:delete:planned',
      'role:delete:planned',
      'topic:delete:planned',
      'failed-events-queue:delete:planned',
      'log-group:delete:planned',
      'table:delete:planned',
      'source-bucket-policy:delete:planned',
      'dest-bucket-policy:delete:planned',
      'source-bucket:delete:planned',
      'dest-bucket:delete:planned',
    ]);
    expect(document.steps.find((s) => s.id === 'dest-bucket')?.ops).toEqual([{ kind: 'empty-bucket' }, { kind: 'delete-bucket' }]);
    expect(result.resources.every((r) => r.outcome === 'planned')).toBe(true);
  });

  it('says why it would keep the buckets with --keep-buckets', async () => {
    const test = await localTestContext({}, stack.cwd);
    const result = await executeDestroy(test.context, { dryRun: true, keepBuckets: true });
    test.context.close();
    expect(test.recorder.mutating()).toEqual([]);
    expect(result.resources.filter((r) => r.outcome === 'kept').map((r) => `${r.name}:${r.detail}`)).toEqual([
      `${stack.settings.sourceBucket}:--keep-buckets`,
      `${stack.settings.destBucket}:--keep-buckets`,
    ]);
    expect(test.stdout()).toContain('Dry run: nothing was deleted.');
  });
});

describe('destroy while work is in flight', () => {
  it('empties again and retries when objects land while a bucket is emptied, and finishes', async () => {
    const writer = (await stack.context.clients()).s3;
    const test = await localTestContext({}, stack.cwd);
    const { s3 } = await test.context.clients();
    const landing = landObjectBeforeDeleteBucket(s3, writer, stack.settings.destBucket, 2);
    const writing = keepWriting(writer, stack.settings.destBucket, 20);
    const result = await executeDestroy(test.context, { bucketRetry: fastRetry });
    const written = await writing;
    test.context.close();

    expect(landing.landed()).toBe(2);
    expect(written).toBeGreaterThan(0);
    expect(result.resources.map((r) => r.outcome)).toEqual(Array(13).fill('deleted'));
    expect(result.resources.find((r) => r.resource === 'Destination bucket')?.detail).toMatch(/emptied \d+ times as objects kept arriving/);
    expect(test.recorder.operations().filter((op) => op === 's3:DeleteBucket').length).toBeGreaterThanOrEqual(4);
    await expect(writer.send(new HeadBucketCommand({ Bucket: stack.settings.destBucket }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('is then reported by status as not deployed (exit 3), not as drifted', async () => {
    const test = await localTestContext({}, stack.cwd);
    const result = await executeStatus(test.context);
    test.context.close();
    expect(result).toMatchObject({ exitCode: ExitCode.Drift, state: 'not-deployed', ok: false });
    expect(test.stderr()).toContain(`Stack "${stack.settings.stackName}" is not deployed: none of its resources exist.`);
    expect(test.stderr()).not.toContain('has drifted');
  });

  it('gives up after a bounded number of attempts when uploads keep arriving, says what remains, and a second run finishes', async () => {
    const again = await localTestContext({}, stack.cwd);
    await runInit(again.context, { artifacts: await testArtifacts(), arch: hostArch() });
    again.context.close();

    const writer = (await stack.context.clients()).s3;
    const test = await localTestContext({}, stack.cwd);
    const { s3 } = await test.context.clients();
    landObjectBeforeDeleteBucket(s3, writer, stack.settings.sourceBucket, Number.POSITIVE_INFINITY);
    const error = await executeDestroy(test.context, { bucketRetry: { attempts: 3, minDelayMs: 10, maxDelayMs: 20 } }).catch((e: unknown) => e);
    test.context.close();
    expect(error).toMatchObject({ code: 'DESTROY_INCOMPLETE' });
    const { message, suggestion } = error as { message: string; suggestion: string };
    expect(message).toContain(`s3://${stack.settings.sourceBucket}`);
    expect(message).toContain('BucketNotEmpty 3 times');
    expect(message).toContain(`Not removed yet: Source bucket ${stack.settings.sourceBucket}, Destination bucket ${stack.settings.destBucket}.`);
    expect(message).toContain('Running `img-resizer destroy` again finishes');
    expect(suggestion).toContain('Stop uploads');
    expect(test.recorder.operations().filter((op) => op === 's3:DeleteBucket')).toHaveLength(3);
    expect(test.recorder.operations()).toContain('lambda:DeleteFunction');

    const finish = await localTestContext({}, stack.cwd);
    const result = await executeDestroy(finish.context);
    finish.context.close();
    expect(result.resources.map((r) => `${r.resource}:${r.outcome}`)).toEqual([
      'Upload trigger:gone',
      'Invoke permission:gone',
      'Function:gone',
      'sharp layer:gone',
      'Function role:gone',
      'Outcomes topic:gone',
      'Failed-events queue:gone',
      'Function log group:gone',
      'Metadata table:gone',
      'Source bucket policy:gone',
      'Destination bucket policy:gone',
      'Source bucket:deleted',
      'Destination bucket:deleted',
    ]);
    const names = (await writer.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
    expect(names).not.toContain(stack.settings.sourceBucket);
    expect(names).not.toContain(stack.settings.destBucket);
  });
});
