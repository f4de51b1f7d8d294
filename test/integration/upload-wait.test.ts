import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { runMetadataGet, runMetadataList } from '../../src/commands/metadata.js';
import { runUpload } from '../../src/commands/upload.js';
import { MULTIPART_THRESHOLD_BYTES, PART_SIZE_BYTES } from '../../src/aws/objects.js';
import { CliError, ExitCode, UsageError } from '../../src/errors.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';

/** A photo-like JPEG: a gradient with noise, so the encoder does real work. */
async function photo(width: number, height: number): Promise<Buffer> {
  const noise = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#3a6ea5' } })
    .composite([{ input: noise, blend: 'overlay' }])
    .jpeg({ quality: 88 })
    .toBuffer();
}

// The same tests in both modes (issue 17): workflow mode must pass the direct mode's end-to-end tests unchanged.
describe.each(['direct', 'stepfunctions'] as const)('upload --wait on the local stack with the real function (%s)', (orchestration) => {
  let stack: DeployedTestStack;
  let photosDir: string;

  beforeAll(async () => {
    stack = await deployTestStack(orchestration === 'direct' ? {} : { orchestration });
    photosDir = path.join(stack.cwd, 'photos');
    await mkdir(photosDir, { recursive: true });
  });

  it('uploads a photograph under a key with spaces and Unicode, waits, and shows the outputs', async () => {
    const file = path.join(photosDir, 'été à Paris 01.jpg');
    await writeFile(file, await photo(1200, 800));
    const { context, stdout } = stack;
    const { exitCode, report } = await runUpload(context, { paths: [file], prefix: 'voyage/2024 été', wait: true, timeoutSeconds: 90 });

    expect(exitCode).toBe(ExitCode.Ok);
    const uploaded = report.files[0]!;
    expect(uploaded).toMatchObject({ key: 'voyage/2024 été/été à Paris 01.jpg', contentType: 'image/jpeg', outcome: 'SUCCEEDED' });
    const clients = await context.clients();
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.sourceBucket, Key: uploaded.key }));
    expect(head.ContentType).toBe('image/jpeg');

    // The default size is thumbnail=200x200 as png, cover: one output, the contract's name for it.
    const item = uploaded.item!;
    expect(item.Outputs).toHaveLength(1);
    const output = item.Outputs[0]!;
    expect(output.Key).toBe('resized-voyage/2024 été/été à Paris 01.png');
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: stack.settings.destBucket, Key: output.Key }));
    const meta = await sharp(await object.Body!.transformToByteArray()).metadata();
    expect({ width: meta.width, height: meta.height, format: meta.format }).toEqual({ width: 200, height: 200, format: 'png' });
    expect({ Width: output.Width, Height: output.Height }).toEqual({ Width: 200, Height: 200 });
    expect(object.ContentType).toBe('image/png');
    expect(stdout()).toContain('resized-voyage/2024 été/été à Paris 01.png');
    expect(stdout()).toContain('200x200');

    const json = await localTestContext({ json: true }, stack.cwd);
    const got = await runMetadataGet(json.context, 'voyage/2024 été/été à Paris 01.jpg');
    expect(got.exitCode).toBe(ExitCode.Ok);
    const printed = JSON.parse(json.stdout()) as MetadataItem;
    expect(printed).toMatchObject({
      ImageID: `s3://${stack.settings.sourceBucket}/voyage/2024 été/été à Paris 01.jpg`,
      OriginalFile: 'voyage/2024 été/été à Paris 01.jpg',
      Status: 'SUCCEEDED',
      OriginalWidth: 1200,
      OriginalHeight: 800,
      OriginalFormat: 'jpeg',
    });
  });

  it('after a re-upload of the same key, waits for the new item rather than taking the old one', async () => {
    const file = path.join(photosDir, 'again.jpg');
    await writeFile(file, await photo(640, 480));
    const first = await runUpload(stack.context, { paths: [file], wait: true, timeoutSeconds: 90 });
    expect(first.exitCode).toBe(ExitCode.Ok);
    const firstItem = first.report.files[0]!.item!;

    await writeFile(file, await photo(300, 900));
    const second = await runUpload(stack.context, { paths: [file], wait: true, timeoutSeconds: 90 });
    expect(second.exitCode).toBe(ExitCode.Ok);
    const secondItem = second.report.files[0]!.item!;
    expect(secondItem.ProcessedAt).not.toBe(firstItem.ProcessedAt);
    expect({ w: secondItem.OriginalWidth, h: secondItem.OriginalHeight }).toEqual({ w: 300, h: 900 });
  });

  it('records a truncated JPEG (uploaded with --force) as FAILED with CORRUPT_IMAGE and exits 1 naming it', async () => {
    const whole = await photo(800, 600);
    const file = path.join(photosDir, 'broken.jpg');
    await writeFile(file, whole.subarray(0, Math.floor(whole.length * 0.4)));
    const json = await localTestContext({ json: true }, stack.cwd);
    const { exitCode, report } = await runUpload(json.context, { paths: [file], prefix: 'bad', wait: true, force: true, timeoutSeconds: 90 });

    expect(exitCode).toBe(ExitCode.Failed);
    expect(report.failed).toEqual(['bad/broken.jpg']);
    expect(report.files[0]).toMatchObject({ outcome: 'FAILED', item: { Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE' } });
    // --json: one document on stdout, the human lines on stderr.
    const printed = JSON.parse(json.stdout()) as { failed: string[] };
    expect(printed.failed).toEqual(['bad/broken.jpg']);
    expect(json.stderr()).toContain('bad/broken.jpg');
    expect(json.stderr()).toContain('CORRUPT_IMAGE');
  });

  it('with --strict, refuses a batch holding a file that is not an image, uploading nothing, and names it', async () => {
    const text = path.join(photosDir, 'notes.jpg');
    await writeFile(text, 'shopping list: milk, eggs');
    const good = path.join(photosDir, 'fine.jpg');
    await writeFile(good, await photo(64, 64));
    const attempt = runUpload(stack.context, { paths: [good, text], prefix: 'refused', wait: false, strict: true });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/Not an image.*notes\.jpg/);
    const clients = await stack.context.clients();
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: stack.settings.sourceBucket, Prefix: 'refused/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('uploads a directory several files at a time without waiting, keeping relative names', async () => {
    const dir = path.join(stack.cwd, 'album');
    await mkdir(path.join(dir, 'day 2'), { recursive: true });
    await writeFile(path.join(dir, 'a.jpg'), await photo(100, 80));
    await writeFile(path.join(dir, 'day 2', 'b ü.jpg'), await photo(80, 100));
    await writeFile(path.join(dir, 'c.png'), await sharp(await photo(50, 50)).png().toBuffer());
    const { exitCode, report } = await runUpload(stack.context, { paths: [dir], prefix: 'album', wait: false });
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report.files.map((f) => [f.key, f.contentType, f.outcome])).toEqual([
      ['album/a.jpg', 'image/jpeg', 'UPLOADED'],
      ['album/c.png', 'image/png', 'UPLOADED'],
      ['album/day 2/b ü.jpg', 'image/jpeg', 'UPLOADED'],
    ]);
    const clients = await stack.context.clients();
    const body = await clients.s3.send(new GetObjectCommand({ Bucket: stack.settings.sourceBucket, Key: 'album/day 2/b ü.jpg' }));
    expect(Buffer.from(await body.Body!.transformToByteArray())).toEqual(await readFile(path.join(dir, 'day 2', 'b ü.jpg')));
  });

  it('sends a large file as a multipart upload and the function still processes it', async () => {
    // Noise compresses badly: a 3000x2600 PNG of it is ~23 MB, above the multipart threshold.
    const big = path.join(photosDir, 'big noise.png');
    await sharp({ create: { width: 3000, height: 2600, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png({ compressionLevel: 1 })
      .toFile(big);
    const bytes = (await readFile(big)).length;
    expect(bytes).toBeGreaterThan(MULTIPART_THRESHOLD_BYTES);
    stack.recorder.clear();
    const { exitCode, report } = await runUpload(stack.context, { paths: [big], prefix: 'large', wait: true, timeoutSeconds: 120 });
    expect(exitCode).toBe(ExitCode.Ok);
    const ops = stack.recorder.operations();
    expect(ops).toContain('s3:CreateMultipartUpload');
    expect(ops.filter((o) => o === 's3:UploadPart')).toHaveLength(Math.ceil(bytes / PART_SIZE_BYTES));
    expect(ops).toContain('s3:CompleteMultipartUpload');
    expect(ops).not.toContain('s3:PutObject');
    const clients = await stack.context.clients();
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.sourceBucket, Key: 'large/big noise.png' }));
    expect({ length: head.ContentLength, type: head.ContentType }).toEqual({ length: bytes, type: 'image/png' });
    expect(report.files[0]?.item).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 3000, OriginalHeight: 2600 });
  });

  it('stops at Ctrl-C before starting any upload: nothing is sent, each file is NOT_STARTED, exit 130', async () => {
    const file = path.join(photosDir, 'never sent.jpg');
    await writeFile(file, await photo(64, 64));
    const interrupt = new AbortController();
    interrupt.abort();
    const json = await localTestContext({ json: true }, stack.cwd);
    const { exitCode, report } = await runUpload(json.context, { paths: [file], prefix: 'interrupted', wait: true, signal: interrupt.signal });
    expect(exitCode).toBe(ExitCode.Interrupted);
    expect(report.interrupted).toBe(true);
    expect(report.files.map((f) => [f.key, f.outcome])).toEqual([['interrupted/never sent.jpg', 'NOT_STARTED']]);
    expect((JSON.parse(json.stdout()) as { interrupted: boolean }).interrupted).toBe(true);
    expect(json.stderr()).toContain('Interrupted: 1 file not uploaded (photos/never sent.jpg): upload it again.');
    // The progress line still reaches its total: the file not started is settled too.
    expect(json.stderr()).toContain('Uploading 1/1');
    const clients = await json.context.clients();
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: stack.settings.sourceBucket, Prefix: 'interrupted/' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('names a missing table or bucket (a destroyed stack) instead of the SDK\'s bare "not found"', async () => {
    const file = path.join(photosDir, 'orphan.jpg');
    await writeFile(file, await photo(64, 64));
    const gone = path.join(stack.cwd, 'gone');
    await mkdir(gone, { recursive: true });
    await writeFile(path.join(gone, 'no-table.json'), JSON.stringify({ ...stack.settings, table: `${stack.settings.table}-gone` }));
    await writeFile(path.join(gone, 'no-bucket.json'), JSON.stringify({ ...stack.settings, sourceBucket: `${stack.settings.sourceBucket}-gone` }));

    const noTable = await localTestContext({ config: 'no-table.json' }, gone);
    const waiting = runUpload(noTable.context, { paths: [file], wait: true });
    await expect(waiting).rejects.toBeInstanceOf(CliError);
    await expect(waiting).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND', exitCode: ExitCode.Failed, message: `The metadata table ${stack.settings.table}-gone does not exist.` });
    await expect(runMetadataList(noTable.context)).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    await expect(runMetadataGet(noTable.context, 'orphan.jpg')).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });

    const noBucket = await localTestContext({ config: 'no-bucket.json' }, gone);
    const uploading = runUpload(noBucket.context, { paths: [file], wait: false });
    await expect(uploading).rejects.toMatchObject({ code: 'BUCKET_NOT_FOUND', message: `The source bucket ${stack.settings.sourceBucket}-gone does not exist.` });
  });
});
