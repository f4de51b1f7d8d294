import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, handler } from '../../lambda-src/handler.js';
import { photo } from '../helpers/images.js';
import { s3ObjectEvent, setUpInProcessFunction, type InProcessFunction } from '../helpers/in-process-function.js';

const SOURCE = 'handler-uploads';
const DEST = 'handler-resized';
const TABLE = 'handler-images';

/** The function's environment, as init configures it, pointed at the test's MiniStack. */
const functionEnv = {
  SOURCE_BUCKET: SOURCE,
  DEST_BUCKET: DEST,
  TABLE_NAME: TABLE,
  SIZES: 'thumb=200x200,medium=400x400',
  OUTPUT_FORMAT: 'png',
  FIT: 'inside',
};

let s3: S3Client;
let documents: DynamoDBDocumentClient;
let stack: InProcessFunction;

/** The event S3 sends for an upload. */
function uploadEvent(key: string, eTag: string, size: number) {
  return s3ObjectEvent(SOURCE, key, { eTag, size, sequencer: '0065A1B2C3D4E5F601' });
}

async function destKeys(): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: DEST }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
}

describe('the function handler, in process, against the local stack', () => {
  beforeAll(async () => {
    stack = await setUpInProcessFunction({ source: SOURCE, dest: DEST, table: TABLE }, functionEnv);
    ({ s3, documents } = stack.clients);
  });

  afterAll(() => {
    stack.restore();
  });

  it('writes every size to the destination bucket with matching Content-Type, then a SUCCEEDED item', async () => {
    const key = 'trips/my beach+café.jpg';
    const image = await photo(640, 480);
    const eTag = await stack.upload(key, image);
    const summary = await handler(uploadEvent(key, eTag, image.length));
    expect(summary).toMatchObject({ records: 1, succeeded: 1 });

    expect(await destKeys()).toEqual(['resized/medium/trips/my beach+café.png', 'resized/thumb/trips/my beach+café.png']);
    const thumb = await s3.send(new GetObjectCommand({ Bucket: DEST, Key: 'resized/thumb/trips/my beach+café.png' }));
    expect(thumb.ContentType).toBe('image/png');
    expect(thumb.CacheControl).toBe('public, max-age=86400');
    const meta = await sharp(Buffer.from(await thumb.Body!.transformToByteArray())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 200, 150]);

    expect(await stack.item(key)).toMatchObject({
      ImageID: `s3://${SOURCE}/${key}`,
      OriginalFile: key,
      SourceBucket: SOURCE,
      Bucket: DEST,
      Status: 'SUCCEEDED',
      ResizedFile: 'resized/thumb/trips/my beach+café.png',
      OriginalFormat: 'jpeg',
      OriginalWidth: 640,
      OriginalHeight: 480,
      OriginalBytes: image.length,
      SourceETag: eTag,
      Outputs: [
        { Size: 'thumb', Key: 'resized/thumb/trips/my beach+café.png', Width: 200, Height: 150, Format: 'png' },
        { Size: 'medium', Key: 'resized/medium/trips/my beach+café.png', Width: 400, Height: 300, Format: 'png' },
      ],
      // Content insight, through DynamoDB and back; no Labels without LABELS=on.
      Placeholder: expect.stringMatching(/^[A-Za-z0-9+/]{10,60}={0,2}$/) as string,
      DominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) as string,
      PerceptualHash: expect.stringMatching(/^[0-9a-f]{16}$/) as string,
    });
    expect(await stack.item(key)).not.toHaveProperty('Labels');
  });

  it('keeps one item when the event is delivered twice', async () => {
    const image = await photo(300, 300);
    const eTag = await stack.upload('twice.jpg', image);
    const event = uploadEvent('twice.jpg', eTag, image.length);
    await handler(event);
    const first = await stack.item('twice.jpg');
    await handler(event);
    const scan = await documents.send(new ScanCommand({ TableName: TABLE }));
    expect((scan.Items ?? []).filter((i) => i.OriginalFile === 'twice.jpg')).toHaveLength(1);
    expect((await stack.item('twice.jpg'))?.ProcessedAt).not.toBe(first?.ProcessedAt);
  });

  it('records a FAILED item and writes no output for a file that is not an image', async () => {
    const body = Buffer.from('this is a text file\n');
    const eTag = await stack.upload('notes.jpg', body);
    const before = await destKeys();
    const summary = await handler(uploadEvent('notes.jpg', eTag, body.length));
    expect(summary).toMatchObject({ failed: 1 });
    expect(await stack.item('notes.jpg')).toMatchObject({ Status: 'FAILED', ErrorCode: 'UNSUPPORTED_FORMAT', Outputs: [], OriginalBytes: body.length });
    expect(await destKeys()).toEqual(before);
  });

  it('does not let an older version replace the item of a newer one', async () => {
    const image = await photo(100, 100);
    const eTag = await stack.upload('raced.jpg', image);
    await documents.send(
      new PutCommand({
        TableName: TABLE,
        // Recorded from a later S3 event of the key (a greater sequencer than the one below).
        Item: { ImageID: `s3://${SOURCE}/raced.jpg`, Status: 'SUCCEEDED', SourceLastModified: '2999-01-01T00:00:00.000Z', Sequencer: 'F'.repeat(32) },
      }),
    );
    const summary = await handler(uploadEvent('raced.jpg', eTag, image.length));
    expect(summary.results[0]).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^superseded/) as string });
    expect(await stack.item('raced.jpg')).toMatchObject({ SourceLastModified: '2999-01-01T00:00:00.000Z' });

    // An event for a version that has since been replaced is skipped at the read.
    const stale = await handler(uploadEvent('raced.jpg', 'd41d8cd98f00b204e9800998ecf8427e', image.length));
    expect(stale.results[0]).toMatchObject({ status: 'SKIPPED' });
  });

  it('throws when DynamoDB cannot be reached, so Lambda retries', async () => {
    const image = await photo(100, 100);
    const eTag = await stack.upload('unlucky.jpg', image);
    const unreachable = createHandler({
      env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' },
    });
    await expect(unreachable(uploadEvent('unlucky.jpg', eTag, image.length))).rejects.toThrow(/ECONNREFUSED|connect/);
    // S3 worked: the outputs are there (a retry rewrites them); only the item is missing.
    expect(await destKeys()).toContain('resized/thumb/unlucky.png');
    expect(await stack.item('unlucky.jpg')).toBeUndefined();
  });
});
