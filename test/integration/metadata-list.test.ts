import { Writable } from 'node:stream';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { localTarget } from '../../src/aws/target.js';
import { runMetadataGet, runMetadataList } from '../../src/commands/metadata.js';
import { AppContext } from '../../src/context.js';
import { CliError, ExitCode } from '../../src/errors.js';
import { Output } from '../../src/ui/output.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { RequestRecorder } from '../helpers/request-recorder.js';

const COUNT = 1000;

function itemFor(i: number, sourceBucket: string, destBucket: string): MetadataItem {
  const key = `bulk/${i % 7 === 0 ? 'été ' : ''}photo ${String(i).padStart(4, '0')}.jpg`;
  const base = {
    ImageID: `s3://${sourceBucket}/${key}`,
    OriginalFile: key,
    SourceBucket: sourceBucket,
    Bucket: destBucket,
    OriginalBytes: 100_000 + i,
    OriginalFormat: 'jpeg',
    OriginalWidth: 4000,
    OriginalHeight: 3000,
    ProcessedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 60)).toISOString(),
    DurationMs: 100 + (i % 50),
  };
  if (i % 10 === 0) {
    return { ...base, Outputs: [], Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE', ErrorMessage: 'Premature end of JPEG file' };
  }
  const out = `resized-bulk/photo ${String(i).padStart(4, '0')}.png`;
  return { ...base, ResizedFile: out, Outputs: [{ Size: 'thumbnail', Key: out, Width: 200, Height: 150, Bytes: 20_000, Format: 'png' }], Status: 'SUCCEEDED' };
}

describe('metadata list and get over a large table', () => {
  let stack: DeployedTestStack;

  beforeAll(async () => {
    stack = await deployTestStack();
    const clients = await stack.context.clients();
    const items = Array.from({ length: COUNT }, (_, i) => itemFor(i, stack.settings.sourceBucket, stack.settings.destBucket));
    const limit = pLimit(4);
    const batches = Array.from({ length: COUNT / 25 }, (_, b) => items.slice(b * 25, b * 25 + 25));
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          const response = await clients.documents.send(
            new BatchWriteCommand({ RequestItems: { [stack.settings.table]: batch.map((Item) => ({ PutRequest: { Item } })) } }),
          );
          expect(Object.keys(response.UnprocessedItems ?? {})).toEqual([]);
        }),
      ),
    );
  });

  it('--json prints all 1,000 items as one array of plain items', async () => {
    const json = await localTestContext({ json: true }, stack.cwd);
    const result = await runMetadataList(json.context, {});
    expect(result).toMatchObject({ exitCode: ExitCode.Ok, count: COUNT });
    const printed = JSON.parse(json.stdout()) as MetadataItem[];
    expect(printed).toHaveLength(COUNT);
    expect(new Set(printed.map((i) => i.ImageID)).size).toBe(COUNT);
    const sample = printed.find((i) => i.OriginalFile === 'bulk/photo 0001.jpg');
    expect(sample).toEqual(itemFor(1, stack.settings.sourceBucket, stack.settings.destBucket));
    json.context.close();
  });

  it('starts printing before the last page arrives, and waits for a slow reader instead of buffering', async () => {
    const recorder = new RequestRecorder();
    const scansAtFirstWrite: number[] = [];
    const chunks: string[] = [];
    let mostBuffered = 0;
    // A slow reader: takes a chunk per millisecond.
    const stdout = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        if (chunks.length === 0) scansAtFirstWrite.push(recorder.operations().filter((o) => o === 'dynamodb:Scan').length);
        chunks.push(chunk.toString('utf8'));
        setTimeout(done, 1);
      },
    });
    const write = stdout.write.bind(stdout);
    stdout.write = ((...args: Parameters<typeof stdout.write>) => {
      const ok = write(...args);
      mostBuffered = Math.max(mostBuffered, stdout.writableLength);
      return ok;
    }) as typeof stdout.write;
    const context = new AppContext({ json: true }, {
      cwd: stack.cwd,
      output: new Output({ json: true, debug: false, stdout, stderr: new Writable({ write: (_c, _e, done) => { done(); } }), interactive: false }),
      target: localTarget(inject('ministackEndpoint'), {}),
      clientOptions: { hooks: [recorder.hook] },
    });
    const result = await runMetadataList(context, { pageSize: 100 });
    context.close();
    const scans = recorder.operations().filter((o) => o === 'dynamodb:Scan').length;
    expect(result.pages).toBeGreaterThanOrEqual(10);
    expect(scans).toBe(result.pages);
    expect(scansAtFirstWrite).toEqual([1]);
    const text = chunks.join('');
    expect((JSON.parse(text) as unknown[]).length).toBe(COUNT);
    // At most about one page (100 items) waits in the stream, not the whole listing.
    expect(mostBuffered).toBeLessThan(text.length / 4);
  });

  it('--status filters and --limit stops early', async () => {
    const failed = await localTestContext({ json: true }, stack.cwd);
    await runMetadataList(failed.context, { status: 'FAILED' });
    const failedItems = JSON.parse(failed.stdout()) as MetadataItem[];
    expect(failedItems).toHaveLength(COUNT / 10);
    expect(failedItems.every((i) => i.Status === 'FAILED' && i.ErrorCode === 'CORRUPT_IMAGE')).toBe(true);

    const limited = await localTestContext({ json: true }, stack.cwd);
    const result = await runMetadataList(limited.context, { limit: 7 });
    expect(result.count).toBe(7);
    expect(JSON.parse(limited.stdout())).toHaveLength(7);
    expect(limited.recorder.operations().filter((o) => o === 'dynamodb:Scan')).toHaveLength(1);
  });

  it('prints a table for people', async () => {
    const human = await localTestContext({}, stack.cwd);
    await runMetadataList(human.context, { limit: 25 });
    const lines = human.stdout().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^File\s+Status\s+Original\s+Outputs\s+Processed at \(UTC\)$/);
    expect(lines).toHaveLength(2 + 25);
    expect(lines.slice(2).every((l) => /(SUCCEEDED\s+4000x3000\s+thumbnail 200x150|FAILED\s+4000x3000\s+CORRUPT_IMAGE)\s+2025-01-01 00:00:\d\d$/.test(l))).toBe(true);
    expect(human.stderr()).toContain('25 items');
  });

  it('get finds an item by its source key, and exits 1 with a clear message when there is none', async () => {
    const human = await localTestContext({}, stack.cwd);
    const { item } = await runMetadataGet(human.context, 'bulk/été photo 0070.jpg');
    expect(item.Status).toBe('FAILED');
    expect(human.stdout()).toContain('CORRUPT_IMAGE: Premature end of JPEG file');
    const missing = runMetadataGet(human.context, 'bulk/nope.jpg');
    await expect(missing).rejects.toBeInstanceOf(CliError);
    await expect(missing).rejects.toMatchObject({ exitCode: ExitCode.Failed, message: expect.stringContaining(`No metadata item for s3://${stack.settings.sourceBucket}/bulk/nope.jpg`) as string });
  });
});
