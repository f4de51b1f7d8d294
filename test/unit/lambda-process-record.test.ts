import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import {
  NewerItemError,
  ObjectNotFoundError,
  ReadDeniedError,
  SourceChangedError,
  processRecord,
  type PutObjectRequest,
  type RecordPorts,
  type SourceObject,
} from '../../lambda-src/core/process-record.js';
import { loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { createHandler } from '../../lambda-src/handler.js';
import { photo, pngBomb } from '../helpers/images.js';

interface StoredObject {
  body: Buffer;
  eTag: string;
  lastModified: Date;
}

/** S3 and DynamoDB in memory, with the semantics the AWS ports give processRecord. */
class MemoryPorts implements RecordPorts {
  readonly objects = new Map<string, StoredObject>();
  readonly puts: PutObjectRequest[] = [];
  readonly items = new Map<string, MetadataItem>();
  itemWrites = 0;
  bodyReads = 0;
  failPutItem: Error | undefined;
  denyRead = false;
  /** Runs before each output write (to simulate what happens meanwhile). */
  beforePutObject: (() => void) | undefined;
  readonly ifMatches: (string | undefined)[] = [];

  put(bucket: string, key: string, body: Buffer, lastModified = new Date('2025-01-01T00:00:00Z')): StoredObject {
    const object = { body, eTag: createHash('md5').update(body).digest('hex'), lastModified };
    this.objects.set(`${bucket}/${key}`, object);
    return object;
  }

  getObject(bucket: string, key: string, options: { ifMatch?: string | undefined }): Promise<SourceObject> {
    this.ifMatches.push(options.ifMatch);
    if (this.denyRead) return Promise.reject(new ReadDeniedError());
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) return Promise.reject(new ObjectNotFoundError());
    if (options.ifMatch !== undefined && options.ifMatch !== object.eTag) return Promise.reject(new SourceChangedError());
    return Promise.resolve({
      contentLength: object.body.length,
      eTag: object.eTag,
      lastModified: object.lastModified,
      read: () => {
        this.bodyReads += 1;
        return Promise.resolve(object.body);
      },
      discard: () => undefined,
    });
  }

  putObject(request: PutObjectRequest): Promise<void> {
    this.beforePutObject?.();
    this.puts.push(request);
    return Promise.resolve();
  }

  putItem(item: MetadataItem): Promise<void> {
    if (this.failPutItem) return Promise.reject(this.failPutItem);
    const existing = this.items.get(item.ImageID);
    if (item.SourceLastModified && existing?.SourceLastModified && existing.SourceLastModified > item.SourceLastModified) {
      return Promise.reject(new NewerItemError());
    }
    this.itemWrites += 1;
    this.items.set(item.ImageID, item);
    return Promise.resolve();
  }
}

const ENV = { DEST_BUCKET: 'resized', TABLE_NAME: 'images', SOURCE_BUCKET: 'uploads' };

function s3Event(bucket: string, keys: string[], ports?: MemoryPorts) {
  return {
    Records: keys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: bucket },
        object: { key: encodeS3EventKey(key), size: 1, eTag: ports?.objects.get(`${bucket}/${key}`)?.eTag ?? 'missing', sequencer: '0A' },
      },
    })),
  };
}

function record(bucket: string, key: string, eTag?: string) {
  return { bucket, key, rawKey: encodeS3EventKey(key), eventName: 'ObjectCreated:Put', size: undefined, eTag, sequencer: undefined };
}

describe('the handler over in-memory ports', () => {
  let ports: MemoryPorts;
  beforeEach(() => {
    ports = new MemoryPorts();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  it('processes every record, with keys decoded as S3 encodes them', async () => {
    const keys = ['my photo.jpg', 'a+b.jpg', 'café/写真 1.jpg', '100% sure.jpg', 'plain.jpg'];
    const image = await photo(300, 200);
    for (const key of keys) ports.put('uploads', key, image);
    const handler = createHandler({ env: { ...ENV, SIZES: 'thumb=100x100,small=40x40', OUTPUT_FORMAT: 'webp' }, ports });
    const summary = await handler(s3Event('uploads', keys, ports));
    expect(summary).toMatchObject({ records: 5, succeeded: 5, failed: 0, skipped: 0 });
    expect([...ports.items.keys()].sort()).toEqual(keys.map((k) => `s3://uploads/${k}`).sort());
    const item = ports.items.get('s3://uploads/café/写真 1.jpg')!;
    expect(item).toMatchObject({
      OriginalFile: 'café/写真 1.jpg',
      SourceBucket: 'uploads',
      Bucket: 'resized',
      DestBucket: 'resized',
      ResizedFile: 'resized/thumb/café/写真 1.webp',
      Status: 'SUCCEEDED',
      OriginalFormat: 'jpeg',
      OriginalWidth: 300,
      OriginalHeight: 200,
      OriginalBytes: image.length,
      Outputs: [
        { Size: 'thumb', Key: 'resized/thumb/café/写真 1.webp', Width: 100, Height: 100, Format: 'webp' },
        { Size: 'small', Key: 'resized/small/café/写真 1.webp', Width: 40, Height: 40, Format: 'webp' },
      ],
    });
    expect(Date.parse(item.ProcessedAt)).not.toBeNaN();
    expect(item.DurationMs).toBeGreaterThanOrEqual(0);
    expect(item.ErrorCode).toBeUndefined();
    expect(ports.puts).toHaveLength(10);
    for (const put of ports.puts) {
      expect(put.bucket).toBe('resized');
      expect(put.contentType).toBe('image/webp');
      expect(put.cacheControl).toBe('public, max-age=86400');
      expect((await sharp(put.body).metadata()).format).toBe('webp');
    }
    // The source is never written.
    expect(ports.puts.some((put) => put.bucket === 'uploads')).toBe(false);
  });

  it('rewrites one item on duplicate delivery and retries', async () => {
    ports.put('uploads', 'cat.jpg', await photo(120, 80));
    const handler = createHandler({ env: ENV, ports });
    const event = s3Event('uploads', ['cat.jpg', 'cat.jpg'], ports);
    await handler(event);
    await handler(event);
    expect(ports.items.size).toBe(1);
    expect(ports.itemWrites).toBe(4);
    expect(new Set(ports.puts.map((p) => p.key))).toEqual(new Set(['resized-cat.png']));
  });

  it.each([
    ['truncated', async () => (await photo(400, 300)).subarray(0, 2_000), 'CORRUPT_IMAGE'],
    ['zero-byte', () => Promise.resolve(Buffer.alloc(0)), 'EMPTY_OBJECT'],
    ['non-image', () => Promise.resolve(Buffer.from('name,age\nada,36\n')), 'UNSUPPORTED_FORMAT'],
    ['decompression bomb', () => Promise.resolve(pngBomb()), 'TOO_MANY_PIXELS'],
  ])('records a FAILED item and writes no output for a %s file, without throwing', async (_label, make, code) => {
    ports.put('uploads', 'bad.jpg', await make());
    const summary = await createHandler({ env: ENV, ports })(s3Event('uploads', ['bad.jpg'], ports));
    expect(summary).toMatchObject({ succeeded: 0, failed: 1 });
    expect(ports.puts).toEqual([]);
    const item = ports.items.get('s3://uploads/bad.jpg')!;
    expect(item).toMatchObject({ Status: 'FAILED', ErrorCode: code, Outputs: [], OriginalFile: 'bad.jpg' });
    expect(item.ErrorMessage).toEqual(expect.any(String));
    expect(item.ResizedFile).toBeUndefined();
  });

  it('records NOT_FOUND for an object deleted before it was read', async () => {
    const summary = await createHandler({ env: ENV, ports })(s3Event('uploads', ['gone.jpg']));
    expect(summary.failed).toBe(1);
    expect(ports.items.get('s3://uploads/gone.jpg')).toMatchObject({ Status: 'FAILED', ErrorCode: 'NOT_FOUND' });
  });

  it('fails TOO_LARGE from the content length, without reading the body', async () => {
    ports.put('uploads', 'huge.jpg', await photo(200, 200));
    const summary = await createHandler({ env: { ...ENV, MAX_BYTES: '100' }, ports })(s3Event('uploads', ['huge.jpg'], ports));
    expect(summary.failed).toBe(1);
    expect(ports.bodyReads).toBe(0);
    expect(ports.items.get('s3://uploads/huge.jpg')).toMatchObject({ ErrorCode: 'TOO_LARGE', OriginalBytes: expect.any(Number) as number });
  });

  it('ignores test events and other shapes without failing', async () => {
    const handler = createHandler({ env: ENV, ports });
    await expect(handler({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' })).resolves.toMatchObject({ records: 0, ignored: ['s3:TestEvent'] });
    await expect(handler({ hello: 'world' })).resolves.toMatchObject({ records: 0 });
    await expect(handler(undefined)).resolves.toMatchObject({ records: 0 });
    expect(ports.items.size).toBe(0);
  });

  it('never processes the destination bucket, nor its own outputs in a shared bucket', async () => {
    const image = await photo(100, 100);
    ports.put('resized', 'resized-cat.png', image);
    ports.put('resized', 'other.jpg', image);
    const separate = await createHandler({ env: ENV, ports })(s3Event('resized', ['resized-cat.png', 'other.jpg'], ports));
    expect(separate).toMatchObject({ skipped: 2, succeeded: 0 });
    expect(ports.puts).toEqual([]);

    const shared = { ...ENV, SOURCE_BUCKET: 'resized' };
    const sameBucket = await createHandler({ env: shared, ports })(s3Event('resized', ['resized-cat.png', 'resized/thumb/x.png', 'other.jpg'], ports));
    expect(sameBucket).toMatchObject({ skipped: 2, succeeded: 1 });
    expect(ports.puts.map((p) => p.key)).toEqual(['resized-other.png']);
  });

  it('skips removals when KEEP_ON_DELETE is set, and folder markers', async () => {
    const event = s3Event('uploads', ['photos/', 'x.jpg']);
    (event.Records[1] as { eventName: string }).eventName = 'ObjectRemoved:Delete';
    const summary = await createHandler({ env: { ...ENV, KEEP_ON_DELETE: 'true' }, ports })(event);
    expect(summary).toMatchObject({ skipped: 2 });
    expect(ports.items.size).toBe(0);
  });

  it('throws transient errors so Lambda retries, after processing the other records', async () => {
    const image = await photo(100, 100);
    ports.put('uploads', 'a.jpg', image);
    ports.put('uploads', 'b.jpg', image);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    ports.failPutItem = throttled;
    const handler = createHandler({ env: ENV, ports });
    await expect(handler(s3Event('uploads', ['a.jpg'], ports))).rejects.toBe(throttled);
    await expect(handler(s3Event('uploads', ['a.jpg', 'b.jpg'], ports))).rejects.toBeInstanceOf(AggregateError);
    expect(ports.puts.filter((p) => p.key === 'resized-b.png').length).toBeGreaterThan(0);
  });

  it('records ACCESS_DENIED when the object may not be read, and still throws so Lambda retries', async () => {
    ports.put('uploads', 'locked.jpg', await photo(50, 50));
    ports.denyRead = true;
    const handler = createHandler({ env: ENV, ports });
    await expect(handler(s3Event('uploads', ['locked.jpg'], ports))).rejects.toBeInstanceOf(ReadDeniedError);
    expect(ports.items.get('s3://uploads/locked.jpg')).toMatchObject({ Status: 'FAILED', ErrorCode: 'ACCESS_DENIED', Outputs: [] });
    expect(ports.puts).toEqual([]);

    // The grant arrives; the retry replaces the FAILED item.
    ports.denyRead = false;
    await expect(handler(s3Event('uploads', ['locked.jpg'], ports))).resolves.toMatchObject({ succeeded: 1 });
    expect(ports.items.get('s3://uploads/locked.jpg')).toMatchObject({ Status: 'SUCCEEDED' });
  });

  it('ignores EventBridge and empty events without failing', async () => {
    const handler = createHandler({ env: ENV, ports });
    const eventBridge = { version: '0', source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'uploads' }, object: { key: 'a.jpg' } } };
    await expect(handler(eventBridge)).resolves.toMatchObject({ records: 0, ignored: [expect.stringMatching(/no Records/) as string] });
    await expect(handler({ Records: [] })).resolves.toMatchObject({ records: 0, ignored: [] });
    expect(ports.items.size).toBe(0);
  });

  it('processes every kind of object creation, any event version, multipart ETags, and many records', async () => {
    const image = await photo(60, 40);
    const kinds = ['ObjectCreated:Put', 'ObjectCreated:Post', 'ObjectCreated:Copy', 'ObjectCreated:CompleteMultipartUpload'];
    const keys = Array.from({ length: 12 }, (_, i) => `batch/${i}.jpg`);
    const event = s3Event('uploads', keys);
    event.Records.forEach((r, i) => {
      // A multipart upload's ETag is an MD5 of the parts' MD5s and a part count.
      const eTag = `${createHash('md5').update(String(i)).digest('hex')}-${i + 1}`;
      ports.objects.set(`uploads/${keys[i]!}`, { body: image, eTag, lastModified: new Date('2025-01-01T00:00:00Z') });
      Object.assign(r, { eventName: kinds[i % kinds.length]!, eventVersion: ['2.1', '2.2', '2.3'][i % 3]! });
      r.s3.object.eTag = eTag;
    });
    const summary = await createHandler({ env: ENV, ports })(event);
    expect(summary).toMatchObject({ records: 12, succeeded: 12 });
    expect(ports.ifMatches).toEqual(event.Records.map((r) => r.s3.object.eTag));
  });

  it('names the bad setting on every invocation', async () => {
    const handler = createHandler({ env: { ...ENV, FIT: 'squash' }, ports });
    await expect(handler(s3Event('uploads', ['a.jpg']))).rejects.toThrow(/^FIT: /);
  });
});

describe('processRecord: ordering', () => {
  const settings = loadFunctionSettings(ENV);

  it('skips an event whose object has since been replaced', async () => {
    const ports = new MemoryPorts();
    ports.put('uploads', 'cat.jpg', await photo(50, 50));
    const result = await processRecord(record('uploads', 'cat.jpg', 'etag-of-an-older-upload'), settings, ports);
    expect(result).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^superseded/) as string });
    expect(ports.items.size).toBe(0);
  });

  it('never replaces the item of a newer version with an older one', async () => {
    const ports = new MemoryPorts();
    const newer = ports.put('uploads', 'cat.jpg', await photo(60, 40), new Date('2025-06-01T00:00:00Z'));
    await processRecord(record('uploads', 'cat.jpg', newer.eTag), settings, ports);
    const older = ports.put('uploads', 'cat.jpg', await photo(30, 20), new Date('2025-01-01T00:00:00Z'));
    const result = await processRecord(record('uploads', 'cat.jpg', older.eTag), settings, ports);
    expect(result.status).toBe('SKIPPED');
    expect(ports.items.get('s3://uploads/cat.jpg')).toMatchObject({ OriginalWidth: 60, SourceLastModified: '2025-06-01T00:00:00.000Z', SourceETag: newer.eTag });
  });

  it('repairs the outputs when a newer upload was recorded while this one was processed', async () => {
    const ports = new MemoryPorts();
    const older = ports.put('uploads', 'cat.jpg', await photo(30, 20), new Date('2025-01-01T00:00:00Z'));
    const newerImage = await photo(60, 40);
    ports.beforePutObject = () => {
      // Between this event's read and its writes, a newer upload is made and fully processed.
      ports.beforePutObject = undefined;
      ports.put('uploads', 'cat.jpg', newerImage, new Date('2025-06-01T00:00:00Z'));
      ports.items.set('s3://uploads/cat.jpg', { ImageID: 's3://uploads/cat.jpg', SourceLastModified: '2025-06-01T00:00:00.000Z' } as MetadataItem);
    };
    const result = await processRecord(record('uploads', 'cat.jpg', older.eTag), settings, ports);
    expect(result.status).toBe('SUCCEEDED');
    const last = ports.puts.at(-1)!;
    expect(await sharp(last.body).metadata()).toMatchObject({ width: 60, height: 40 });
    expect(ports.items.get('s3://uploads/cat.jpg')).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 60, SourceLastModified: '2025-06-01T00:00:00.000Z' });
  });
});

describe('processRecord: re-processing', () => {
  const settings = loadFunctionSettings(ENV);

  it('rewrites the item, with a new ProcessedAt, on a duplicate event or a forced backfill', async () => {
    const ports = new MemoryPorts();
    const object = ports.put('uploads', 'dog.jpg', await photo(40, 40));
    let now = Date.parse('2025-02-01T00:00:00Z');
    const clock = (): number => now;
    await processRecord(record('uploads', 'dog.jpg', object.eTag), settings, ports, clock);
    now += 60_000;
    const again = await processRecord(record('uploads', 'dog.jpg', object.eTag), settings, ports, clock);
    expect(again.status).toBe('SUCCEEDED');
    expect(ports.itemWrites).toBe(2);
    expect(ports.items.get('s3://uploads/dog.jpg')?.ProcessedAt).toBe('2025-02-01T00:01:00.000Z');
  });

  it('replaces a FAILED item when the object is uploaded again as a good image', async () => {
    const ports = new MemoryPorts();
    const bad = ports.put('uploads', 'pic.jpg', Buffer.from('not an image'), new Date('2025-01-01T00:00:00Z'));
    expect((await processRecord(record('uploads', 'pic.jpg', bad.eTag), settings, ports)).status).toBe('FAILED');
    const good = ports.put('uploads', 'pic.jpg', await photo(40, 30), new Date('2025-01-02T00:00:00Z'));
    expect((await processRecord(record('uploads', 'pic.jpg', good.eTag), settings, ports)).status).toBe('SUCCEEDED');
    expect(ports.items.get('s3://uploads/pic.jpg')).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 40 });
  });
});
