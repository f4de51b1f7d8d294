import { DeleteFunctionCommand, DeleteFunctionConcurrencyCommand, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DeleteCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { AnyClient } from '../../src/aws/clients.js';
import { localTarget } from '../../src/aws/target.js';
import { AppContext } from '../../src/context.js';
import { Output } from '../../src/ui/output.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { runBackfill } from '../../src/commands/backfill.js';
import { ExitCode } from '../../src/errors.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, uniqueStackName, type DeployedTestStack } from '../helpers/deploy.js';

const COUNT = 60;

/** Keys as operators name files: spaces, Unicode, a plus sign, sub-folders. */
function keyOf(i: number): string {
  if (i % 10 === 0) return `archive/été ${i}/photo +${i}.jpg`;
  if (i % 3 === 0) return `archive/2023/IMG ${String(i).padStart(4, '0')}.jpg`;
  return `archive/img-${i}.jpg`;
}

async function scanAll(stack: DeployedTestStack): Promise<MetadataItem[]> {
  const clients = await stack.context.clients();
  const items: MetadataItem[] = [];
  for await (const page of paginateScan({ client: clients.documents }, { TableName: stack.settings.table })) {
    items.push(...((page.Items ?? []) as MetadataItem[]));
  }
  return items;
}

describe('backfill on the local stack with the real function', () => {
  let stack: DeployedTestStack;
  const keys = Array.from({ length: COUNT }, (_, i) => keyOf(i));

  beforeAll(async () => {
    // The objects exist before the trigger does: create the bucket and fill it, then let init adopt it.
    const setup = await localTestContext();
    const s3 = (await setup.context.clients()).s3;
    const sourceBucket = `${uniqueStackName('bf')}-source`;
    await s3.send(new CreateBucketCommand({ Bucket: sourceBucket }));
    const limit = pLimit(8);
    await Promise.all(
      keys.map((key, i) =>
        limit(async () => {
          const body = await sharp({ create: { width: 160 + i, height: 120, channels: 3, background: { r: (i * 37) % 256, g: 90, b: 160 } } })
            .jpeg()
            .toBuffer();
          await s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: key, Body: body, ContentType: 'image/jpeg' }));
        }),
      ),
    );
    // A "folder" marker as the S3 console makes them: not an image, never the function's.
    await s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: 'archive/empty folder/', Body: new Uint8Array() }));
    setup.context.close();
    stack = await deployTestStack({ sourceBucket });
    expect(await scanAll(stack)).toEqual([]);
  });

  it('processes every object that has no item, reading the table in batches', async () => {
    stack.recorder.clear();
    const { exitCode, report } = await runBackfill(stack.context, {});
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report).toMatchObject({ listed: COUNT + 1, excluded: 1, skipped: 0, processed: COUNT, succeeded: COUNT, failed: [] });

    const items = await scanAll(stack);
    expect(items).toHaveLength(COUNT);
    expect(items.every((i) => i.Status === 'SUCCEEDED')).toBe(true);
    expect(new Set(items.map((i) => i.ImageID))).toEqual(new Set(keys.map((k) => imageIdFor(stack.settings.sourceBucket, k))));
    // The key with a plus sign went through S3's event encoding and came back as itself.
    expect(items.find((i) => i.OriginalFile === 'archive/été 10/photo +10.jpg')?.Outputs[0]?.Key).toBe('resized-archive/été 10/photo +10.png');

    const ops = stack.recorder.operations();
    expect(ops.filter((o) => o === 'dynamodb:BatchGetItem')).toHaveLength(1);
    expect(ops.filter((o) => o === 'lambda:Invoke')).toHaveLength(COUNT);
    expect(stack.stdout()).toContain(`Backfill: ${COUNT} processed (${COUNT} succeeded, 0 failed)`);
  });

  it('a second run finds nothing to do and invokes nothing', async () => {
    stack.recorder.clear();
    const { exitCode, report } = await runBackfill(stack.context, {});
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report).toMatchObject({ processed: 0, skipped: COUNT, failed: [] });
    expect(stack.recorder.operations().filter((o) => o === 'lambda:Invoke')).toEqual([]);
  });

  it('--dry-run lists what is missing and changes nothing', async () => {
    const clients = await stack.context.clients();
    const missing = keys[7]!;
    await clients.documents.send(new DeleteCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, missing) } }));
    stack.recorder.clear();
    const { exitCode, report } = await runBackfill(stack.context, { dryRun: true });
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report.wouldProcess).toEqual([missing]);
    expect(stack.recorder.mutating()).toEqual([]);
    // --prefix narrows the listing; the missing one is then processed for real.
    const { report: real } = await runBackfill(stack.context, { prefix: 'archive/img-7' });
    expect(real).toMatchObject({ listed: 1, processed: 1, succeeded: 1 });
  });

  it('--force reprocesses all of them at concurrency 1 and 8 and still leaves one item each', async () => {
    const rates: Record<number, number> = {};
    for (const concurrency of [1, 8]) {
      const before = new Map((await scanAll(stack)).map((i) => [i.ImageID, i.ProcessedAt]));
      const json = await localTestContext({ json: true }, stack.cwd);
      const { exitCode, report } = await runBackfill(json.context, { force: true, concurrency });
      expect(exitCode).toBe(ExitCode.Ok);
      expect(report).toMatchObject({ processed: COUNT, succeeded: COUNT, skipped: 0, failed: [] });
      expect((JSON.parse(json.stdout()) as { processed: number }).processed).toBe(COUNT);
      rates[concurrency] = report.objectsPerSecond;
      const after = await scanAll(stack);
      expect(after).toHaveLength(COUNT);
      expect(after.every((i) => i.Status === 'SUCCEEDED' && i.ProcessedAt !== before.get(i.ImageID))).toBe(true);
      json.context.close();
    }
    console.log(`backfill throughput on the local stack: ${rates[1]} objects/s at concurrency 1, ${rates[8]} objects/s at concurrency 8`);
  });

  it('streams the bucket a page at a time: invoking starts before the listing ends, and at most two pages of keys are held', async () => {
    const pageSize = 10;
    stack.recorder.clear();
    const { exitCode, report } = await runBackfill(stack.context, { force: true, concurrency: 4, pageSize });
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report).toMatchObject({ listed: COUNT + 1, excluded: 1, skipped: 0, pending: COUNT, processed: COUNT, succeeded: COUNT, failed: [], notStarted: 0 });

    const ops = stack.recorder.operations();
    const listAt = ops.flatMap((o, i) => (o === 's3:ListObjectsV2' ? [i] : []));
    expect(listAt).toHaveLength(Math.ceil((COUNT + 1) / pageSize));
    expect(ops.filter((o) => o === 'dynamodb:BatchGetItem')).toHaveLength(listAt.length);
    // The first invocation goes out before the last page is even asked for...
    expect(ops.indexOf('lambda:Invoke')).toBeLessThan(listAt.at(-1)!);
    // ...and whenever a page is asked for, the keys listed so far but not yet invoked fit in two pages.
    for (const [pagesListed, at] of listAt.entries()) {
      const invoked = ops.slice(0, at).filter((o) => o === 'lambda:Invoke').length;
      expect(pagesListed * pageSize - invoked).toBeLessThanOrEqual(2 * pageSize);
    }

    // A dry run over small pages adds up the same way.
    const { report: dry } = await runBackfill(stack.context, { dryRun: true, pageSize: 7 });
    expect(dry).toMatchObject({ listed: COUNT + 1, excluded: 1, skipped: COUNT, pending: 0, wouldProcess: [] });
  });

  it('stops starting invocations when interrupted, and a rerun finishes the job', async () => {
    const clients = await stack.context.clients();
    const dropped = keys.slice(20, 40);
    await clients.documents.send(new BatchWriteCommand({
      RequestItems: { [stack.settings.table]: dropped.map((k) => ({ DeleteRequest: { Key: { ImageID: imageIdFor(stack.settings.sourceBucket, k) } } })) },
    }));
    // Ctrl-C arrives while the fourth invocation is being sent.
    const interrupt = new AbortController();
    let invokes = 0;
    const abortOnFourthInvoke = (client: AnyClient, service: string): void => {
      if (service !== 'lambda') return;
      (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
          if (context.commandName === 'InvokeCommand' && ++invokes === 4) interrupt.abort();
          return next(args);
        },
        { step: 'initialize', name: 'abortOnFourthInvoke' },
      );
    };
    const sink = new PassThrough().resume();
    const context = new AppContext({ yes: true }, {
      cwd: stack.cwd,
      output: new Output({ json: false, debug: false, stdout: sink, stderr: sink, interactive: false }),
      target: localTarget(inject('ministackEndpoint'), {}),
      clientOptions: { hooks: [abortOnFourthInvoke] },
    });
    const first = await runBackfill(context, { concurrency: 2, signal: interrupt.signal });
    context.close();
    expect(first.exitCode).toBe(ExitCode.Interrupted);
    expect(first.report.interrupted).toBe(true);
    expect(first.report.processed).toBeGreaterThanOrEqual(4);
    expect(first.report.processed).toBeLessThan(dropped.length);
    expect(first.report.processed + first.report.notStarted).toBe(dropped.length);

    const second = await runBackfill(stack.context, {});
    expect(second.exitCode).toBe(ExitCode.Ok);
    expect(second.report).toMatchObject({ processed: first.report.notStarted, skipped: COUNT - first.report.notStarted, failed: [] });
    const items = await scanAll(stack);
    expect(items.filter((i) => i.Status === 'SUCCEEDED')).toHaveLength(COUNT);
  });

  it('reprocesses FAILED objects, counts them as failed, lists them and exits 1', async () => {
    const clients = await stack.context.clients();
    const jpeg = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#884422' } }).jpeg().toBuffer();
    // Uploaded after the trigger exists: the function records them FAILED on its own, and backfill tries again.
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: 'archive/zz broken.jpg', Body: jpeg.subarray(0, 300) }));
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: 'archive/zz notes.jpg', Body: 'plain text, not a picture' }));
    const { exitCode, report } = await runBackfill(stack.context, { prefix: 'archive/zz' });
    expect(exitCode).toBe(ExitCode.Failed);
    expect(report).toMatchObject({ listed: 2, processed: 2, succeeded: 0 });
    expect(report.failed.map((f) => [f.key, f.errorCode])).toEqual([
      ['archive/zz broken.jpg', 'CORRUPT_IMAGE'],
      ['archive/zz notes.jpg', 'UNSUPPORTED_FORMAT'],
    ]);
    expect(stack.stderr()).toContain('archive/zz broken.jpg: CORRUPT_IMAGE');
  });

  it('stops backing off from throttling at once when interrupted', async () => {
    const clients = await stack.context.clients();
    // Reserved concurrency 0: every invoke is throttled, so backfill backs off (here 30 s a time) until stopped.
    await clients.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: stack.settings.functionName, ReservedConcurrentExecutions: 0 }));
    try {
      const interrupt = new AbortController();
      setTimeout(() => { interrupt.abort(); }, 3_000);
      const started = Date.now();
      const { exitCode, report } = await runBackfill(stack.context, {
        prefix: 'archive/img-1', force: true, concurrency: 2, signal: interrupt.signal, retry: { minTimeoutMs: 30_000, maxTimeoutMs: 30_000 },
      });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(exitCode).toBe(ExitCode.Interrupted);
      expect(report.interrupted).toBe(true);
      expect(report.processed).toBe(0);
      expect(report.notStarted).toBe(report.listed);
    } finally {
      await clients.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: stack.settings.functionName }));
    }
  });

  // Last: it deletes the function.
  it('stops at a missing function without listing the rest of the bucket', async () => {
    const clients = await stack.context.clients();
    await clients.lambda.send(new DeleteFunctionCommand({ FunctionName: stack.settings.functionName }));
    stack.recorder.clear();
    await expect(runBackfill(stack.context, { force: true, concurrency: 2, pageSize: 10 })).rejects.toMatchObject({ code: 'FUNCTION_NOT_FOUND' });
    const ops = stack.recorder.operations();
    // Only the pages already in flight were listed, and only the first invocations were tried.
    expect(ops.filter((o) => o === 's3:ListObjectsV2').length).toBeLessThanOrEqual(2);
    expect(ops.filter((o) => o === 'lambda:Invoke').length).toBeLessThanOrEqual(2);
  });
});
