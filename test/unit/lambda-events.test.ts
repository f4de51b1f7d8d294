import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { NotificationPort } from '../../lambda-src/aws-ports.js';
import { parseInvocation, SYNTHESIZED_EVENT_PRINCIPAL } from '../../lambda-src/core/event.js';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { notificationAttributes, notificationFor, sourcePrefixOf, type ImageNotification } from '../../lambda-src/core/notification.js';
import {
  NewerItemError,
  ObjectNotFoundError,
  SourceChangedError,
  type PutObjectRequest,
  type RecordPorts,
  type SourceObject,
} from '../../lambda-src/core/process-record.js';
import { candidateOutputKeys } from '../../lambda-src/core/remove-record.js';
import { compareSequencers, storedSequencer } from '../../lambda-src/core/sequencer.js';
import { loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { itemWriteCondition } from '../../lambda-src/core/write-condition.js';
import { createHandler } from '../../lambda-src/handler.js';
import { photo } from '../helpers/images.js';

describe('S3 sequencers', () => {
  it('compare as S3 documents: left-padded to equal length, then as hex strings', () => {
    expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
    expect(compareSequencers('0055AED6DCD90281E6', '0055AED6DCD90281E5')).toBeGreaterThan(0);
    // Different lengths: "FF" is 0x00FF, less than 0x0100.
    expect(compareSequencers('FF', '0100')).toBeLessThan(0);
    expect(compareSequencers('100', 'FF')).toBeGreaterThan(0);
    expect(compareSequencers('0A', 'a')).toBe(0);
    expect(compareSequencers('00ff', '0FF')).toBe(0);
  });

  it('keep their order once stored, so DynamoDB can compare them as strings', () => {
    const ordered = ['1', 'F', '10', '0055AED6DCD90281E5', '55AED6DCD90281E6', '0065A1B2C3D4E5F601', 'FFFFFFFFFFFFFFFFFF'];
    for (let i = 0; i < ordered.length - 1; i += 1) {
      expect(compareSequencers(ordered[i]!, ordered[i + 1]!)).toBeLessThan(0);
      expect(storedSequencer(ordered[i]!) < storedSequencer(ordered[i + 1]!)).toBe(true);
    }
    expect(storedSequencer('0a')).toBe(storedSequencer('A'));
    expect(storedSequencer('A')).toHaveLength(32);
  });
});

describe('the condition on an item write', () => {
  it('with a sequencer: no write over an item whose sequencer is greater; items without one are overwritten', () => {
    expect(itemWriteCondition({ Sequencer: storedSequencer('0A'), SourceLastModified: '2025-01-01T00:00:00.000Z' })).toEqual({
      ConditionExpression: 'attribute_not_exists(#sequencer) OR #sequencer <= :sequencer',
      ExpressionAttributeNames: { '#sequencer': 'Sequencer' },
      ExpressionAttributeValues: { ':sequencer': storedSequencer('0A') },
    });
  });

  it('without a sequencer (backfill): by Last-Modified, a same-second tie going to an item an event ordered unless it is the same object', () => {
    expect(itemWriteCondition({ SourceLastModified: '2025-01-01T00:00:00.000Z', SourceETag: 'abc' })).toEqual({
      ConditionExpression:
        'attribute_not_exists(#lastModified) OR #lastModified < :lastModified OR (#lastModified = :lastModified AND (attribute_not_exists(#sequencer) OR #eTag = :eTag))',
      ExpressionAttributeNames: { '#sequencer': 'Sequencer', '#lastModified': 'SourceLastModified', '#eTag': 'SourceETag' },
      ExpressionAttributeValues: { ':lastModified': '2025-01-01T00:00:00.000Z', ':eTag': 'abc' },
    });
  });

  it('with neither (an object that could not be read, no sequencer): only over items no event ordered, and no empty value map', () => {
    expect(itemWriteCondition({})).toEqual({
      ConditionExpression: 'attribute_not_exists(#sequencer)',
      ExpressionAttributeNames: { '#sequencer': 'Sequencer' },
    });
  });
});

function s3Event(records: { key: string; eTag?: string; sequencer?: string; eventName?: string; principalId?: string }[], bucket = 'uploads') {
  return {
    Records: records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: r.eventName ?? 'ObjectCreated:Put',
      ...(r.principalId ? { userIdentity: { principalId: r.principalId } } : {}),
      s3: {
        bucket: { name: bucket },
        object: { key: encodeS3EventKey(r.key), size: 1, ...(r.eTag ? { eTag: r.eTag } : {}), ...(r.sequencer ? { sequencer: r.sequencer } : {}) },
      },
    })),
  };
}

describe('reading an invocation', () => {
  it('reads S3 events wrapped in SQS messages, in SNS envelopes, and ignores S3 TestEvent bodies', () => {
    const testEvent = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-01-01T00:00:00.000Z', Bucket: 'uploads' };
    const invocation = parseInvocation({
      Records: [
        { eventSource: 'aws:sqs', messageId: 'm1', body: JSON.stringify(s3Event([{ key: 'a b.jpg', sequencer: '0A' }])) },
        { eventSource: 'aws:sqs', messageId: 'm2', body: JSON.stringify(testEvent) },
        { eventSource: 'aws:sqs', messageId: 'm3', body: JSON.stringify({ Type: 'Notification', Message: JSON.stringify(s3Event([{ key: 'c.jpg' }])) }) },
        { eventSource: 'aws:sqs', messageId: 'm4', body: 'not json' },
      ],
    });
    expect(invocation.source).toBe('sqs');
    expect(invocation.parts.map((p) => [p.messageId, p.records.map((r) => r.key), p.ignored.length])).toEqual([
      ['m1', ['a b.jpg'], 0],
      ['m2', [], 1],
      ['m3', ['c.jpg'], 0],
      ['m4', [], 1],
    ]);
    expect(invocation.parts[0]!.records[0]!.sequencer).toBe('0A');
    expect(invocation.parts[1]!.ignored[0]).toMatch(/m2: s3:TestEvent/);
  });

  it('reads S3 events in SNS notifications to the function, and plain ones (a redrive re-sends the original)', () => {
    const sns = parseInvocation({ Records: [{ EventSource: 'aws:sns', Sns: { Message: JSON.stringify(s3Event([{ key: 'x.jpg' }])) } }] });
    expect(sns.source).toBe('sns');
    expect(sns.parts[0]!.records.map((r) => r.key)).toEqual(['x.jpg']);
    const plain = parseInvocation(s3Event([{ key: 'y.jpg', sequencer: '0B', eventName: 'ObjectRemoved:Delete' }]));
    expect(plain).toMatchObject({ source: 's3', parts: [{ records: [{ key: 'y.jpg', sequencer: '0B', eventName: 'ObjectRemoved:Delete' }] }] });
  });

  it("drops sequencers that do not compare with S3's: the backfill's clock-based ones and non-hex values", () => {
    const parsed = parseInvocation(
      s3Event([
        { key: 'a.jpg', sequencer: '0006123456789ABC', principalId: SYNTHESIZED_EVENT_PRINCIPAL },
        { key: 'b.jpg', sequencer: 'not-hex' },
      ]),
    );
    expect(parsed.parts[0]!.records.map((r) => r.sequencer)).toEqual([undefined, undefined]);
  });
});

const succeeded: MetadataItem = {
  ImageID: 's3://uploads/photos/2024/cat.jpg',
  OriginalFile: 'photos/2024/cat.jpg',
  SourceBucket: 'uploads',
  Bucket: 'resized',
  ResizedFile: 'resized/thumb/photos/2024/cat.png',
  Outputs: [{ Size: 'thumb', Key: 'resized/thumb/photos/2024/cat.png', Width: 200, Height: 150, Bytes: 1234, Format: 'png' }],
  OriginalBytes: 5000,
  OriginalFormat: 'jpeg',
  OriginalWidth: 640,
  OriginalHeight: 480,
  Status: 'SUCCEEDED',
  ProcessedAt: '2025-01-01T00:00:01.000Z',
  DurationMs: 42,
  SourceLastModified: '2025-01-01T00:00:00.000Z',
  SourceETag: 'abc',
  Sequencer: storedSequencer('0A'),
};

describe('notifications', () => {
  it('describe a processed image: versioned JSON with outputs, and attributes for filter policies', () => {
    const notification = notificationFor(succeeded);
    expect(notification).toEqual({
      schemaVersion: 1,
      type: 'image.processed',
      imageId: 's3://uploads/photos/2024/cat.jpg',
      source: { bucket: 'uploads', key: 'photos/2024/cat.jpg', eTag: 'abc', sequencer: storedSequencer('0A') },
      destinationBucket: 'resized',
      status: 'SUCCEEDED',
      original: { format: 'jpeg', width: 640, height: 480, bytes: 5000 },
      outputs: [{ key: 'resized/thumb/photos/2024/cat.png', size: 'thumb', width: 200, height: 150, bytes: 1234, format: 'png' }],
      processingTimeMs: 42,
      time: '2025-01-01T00:00:01.000Z',
    });
    expect(notificationAttributes(notification)).toEqual({ type: 'image.processed', status: 'SUCCEEDED', format: 'png', sourcePrefix: 'photos' });
  });

  it('describe a failure with its code; attributes without a value are left out (SNS refuses empty ones)', () => {
    const failed: MetadataItem = { ...succeeded, ImageID: 's3://uploads/root.jpg', OriginalFile: 'root.jpg', Outputs: [], Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE', ErrorMessage: 'bad' };
    delete failed.ResizedFile;
    const notification = notificationFor(failed);
    expect(notification).toMatchObject({ type: 'image.failed', status: 'FAILED', errorCode: 'CORRUPT_IMAGE', errorMessage: 'bad', outputs: [] });
    expect(notificationAttributes(notification)).toEqual({ type: 'image.failed', status: 'FAILED', errorCode: 'CORRUPT_IMAGE' });
    expect(notificationFor({ ...failed, Status: 'DELETED' }).type).toBe('image.deleted');
  });

  it('take the first path segment as the source prefix', () => {
    expect(sourcePrefixOf('photos/2024/cat.jpg')).toBe('photos');
    expect(sourcePrefixOf('cat.jpg')).toBeUndefined();
    expect(sourcePrefixOf('/odd.jpg')).toBeUndefined();
  });
});

interface StoredObject {
  body: Buffer;
  eTag: string;
  lastModified: Date;
}

/** S3 and DynamoDB in memory, ordering item writes by sequencer as write-condition.ts asks DynamoDB to. */
class MemoryPorts implements RecordPorts {
  readonly objects = new Map<string, StoredObject>();
  readonly outputs = new Map<string, Buffer>();
  readonly items = new Map<string, MetadataItem>();

  put(key: string, body: Buffer): StoredObject {
    const object = { body, eTag: createHash('md5').update(body).digest('hex'), lastModified: new Date('2025-01-01T00:00:00Z') };
    this.objects.set(key, object);
    return object;
  }

  getObject(_bucket: string, key: string, options: { ifMatch?: string | undefined }): Promise<SourceObject> {
    const object = this.objects.get(key);
    if (!object) return Promise.reject(new ObjectNotFoundError());
    if (options.ifMatch !== undefined && options.ifMatch !== object.eTag) return Promise.reject(new SourceChangedError());
    return Promise.resolve({
      contentLength: object.body.length,
      eTag: object.eTag,
      lastModified: object.lastModified,
      read: () => Promise.resolve(object.body),
      discard: () => undefined,
    });
  }

  putObject(request: PutObjectRequest): Promise<void> {
    this.outputs.set(request.key, request.body);
    return Promise.resolve();
  }

  async putItem(item: MetadataItem): Promise<void> {
    await this.markDeleted(item);
  }

  markDeleted(item: MetadataItem): Promise<MetadataItem | undefined> {
    const existing = this.items.get(item.ImageID);
    if (item.Sequencer !== undefined && existing?.Sequencer !== undefined && existing.Sequencer > item.Sequencer) {
      return Promise.reject(new NewerItemError());
    }
    this.items.set(item.ImageID, item);
    return Promise.resolve(existing);
  }

  deleteObjects(_bucket: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) this.outputs.delete(key);
    return Promise.resolve();
  }
}

class MemoryNotifications implements NotificationPort {
  readonly published: ImageNotification[] = [];
  failures = 0;
  publish(notification: ImageNotification): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(Object.assign(new Error('Service unavailable'), { name: 'InternalErrorException' }));
    }
    this.published.push(notification);
    return Promise.resolve();
  }
}

const ENV = { DEST_BUCKET: 'resized', TABLE_NAME: 'images', SOURCE_BUCKET: 'uploads', SIZES: 'thumb=100x100,small=40x40' };

describe('the handler: notifications, removals, ordering and SQS batches (in-memory ports)', () => {
  let ports: MemoryPorts;
  let notifications: MemoryNotifications;
  beforeEach(() => {
    ports = new MemoryPorts();
    notifications = new MemoryNotifications();
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  it('publishes one message per processed or failed record and none for skipped ones', async () => {
    const good = ports.put('good.jpg', await photo(120, 80));
    const bad = ports.put('bad.jpg', Buffer.from('not an image'));
    const handler = createHandler({ env: ENV, ports, notifications });
    await handler(
      s3Event([
        { key: 'good.jpg', eTag: good.eTag, sequencer: '01' },
        { key: 'bad.jpg', eTag: bad.eTag, sequencer: '02' },
        { key: 'folder/' },
      ]),
    );
    expect(notifications.published.map((n) => [n.type, n.source.key, n.errorCode])).toEqual([
      ['image.processed', 'good.jpg', undefined],
      ['image.failed', 'bad.jpg', 'UNSUPPORTED_FORMAT'],
    ]);
    expect(notifications.published[0]!.outputs.map((o) => [o.size, o.width, o.height, o.format])).toEqual([
      ['thumb', 100, 80, 'png'],
      ['small', 40, 40, 'png'],
    ]);
  });

  it('fails the invocation when a message cannot be published, and the retry rewrites the same item and publishes', async () => {
    const good = ports.put('good.jpg', await photo(120, 80));
    const handler = createHandler({ env: ENV, ports, notifications });
    const event = s3Event([{ key: 'good.jpg', eTag: good.eTag, sequencer: '01' }]);
    notifications.failures = 1;
    await expect(handler(event)).rejects.toThrow('Service unavailable');
    expect(ports.items.get('s3://uploads/good.jpg')?.Status).toBe('SUCCEEDED');
    await handler(event);
    expect(notifications.published).toHaveLength(1);
    expect(ports.items.size).toBe(1);
  });

  it('reports only the SQS messages whose records failed as batch item failures', async () => {
    const a = ports.put('a.jpg', await photo(50, 50));
    const b = ports.put('b.jpg', await photo(50, 50));
    const handler = createHandler({ env: ENV, ports, notifications });
    notifications.failures = 1;
    const summary = await handler({
      Records: [
        { eventSource: 'aws:sqs', messageId: 'first', body: JSON.stringify(s3Event([{ key: 'a.jpg', eTag: a.eTag, sequencer: '01' }])) },
        { eventSource: 'aws:sqs', messageId: 'second', body: JSON.stringify(s3Event([{ key: 'b.jpg', eTag: b.eTag, sequencer: '01' }])) },
        { eventSource: 'aws:sqs', messageId: 'test', body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }) },
      ],
    });
    expect(summary.batchItemFailures).toEqual([{ itemIdentifier: 'first' }]);
    expect(summary).toMatchObject({ records: 2, succeeded: 1 });
    expect(notifications.published.map((n) => n.source.key)).toEqual(['b.jpg']);
  });

  it('on removal, removes every output and marks the item DELETED; a late older creation is refused', async () => {
    const image = ports.put('photos/cat.jpg', await photo(120, 80));
    const handler = createHandler({ env: ENV, ports, notifications });
    await handler(s3Event([{ key: 'photos/cat.jpg', eTag: image.eTag, sequencer: '0A' }]));
    expect([...ports.outputs.keys()].sort()).toEqual(['resized/small/photos/cat.png', 'resized/thumb/photos/cat.png']);
    ports.objects.delete('photos/cat.jpg');
    const removal = s3Event([{ key: 'photos/cat.jpg', sequencer: '0B', eventName: 'ObjectRemoved:Delete' }]);
    expect(await handler(removal)).toMatchObject({ deleted: 1 });
    expect(ports.outputs.size).toBe(0);
    expect(ports.items.get('s3://uploads/photos/cat.jpg')).toMatchObject({ Status: 'DELETED', Outputs: [], Sequencer: storedSequencer('0B') });
    expect(notifications.published.map((n) => n.type)).toEqual(['image.processed', 'image.deleted']);

    // The creation event delivered again after the removal: the object is gone and the removal is later.
    const late = await handler(s3Event([{ key: 'photos/cat.jpg', eTag: image.eTag, sequencer: '0A' }]));
    expect(late.results[0]).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^superseded/) as string });
    expect(ports.items.get('s3://uploads/photos/cat.jpg')?.Status).toBe('DELETED');
    expect(notifications.published).toHaveLength(2);
  });

  it('delete then re-upload ends with the new image, in either delivery order', async () => {
    const handler = createHandler({ env: ENV, ports, notifications });
    const removal = s3Event([{ key: 'k.jpg', sequencer: '0B', eventName: 'ObjectRemoved:Delete' }]);
    const reupload = ports.put('k.jpg', await photo(90, 60));
    const creation = s3Event([{ key: 'k.jpg', eTag: reupload.eTag, sequencer: '0C' }]);

    await handler(creation);
    expect(await handler(removal)).toMatchObject({ deleted: 0, skipped: 1 });
    expect(ports.items.get('s3://uploads/k.jpg')).toMatchObject({ Status: 'SUCCEEDED', Sequencer: storedSequencer('0C') });
    expect(ports.outputs.size).toBe(2);

    // The other order, and the removal finding the key uploaded again: it is processed then and there.
    ports.items.clear();
    ports.outputs.clear();
    const result = await handler(removal);
    expect(result).toMatchObject({ succeeded: 1 });
    expect(ports.outputs.size).toBe(2);
    await handler(creation);
    expect(ports.items.get('s3://uploads/k.jpg')).toMatchObject({ Status: 'SUCCEEDED', Sequencer: storedSequencer('0C') });
  });

  it('keeps outputs and item on removal with KEEP_ON_DELETE=true', async () => {
    const image = ports.put('a.jpg', await photo(50, 50));
    const handler = createHandler({ env: { ...ENV, KEEP_ON_DELETE: 'true' }, ports, notifications });
    await handler(s3Event([{ key: 'a.jpg', eTag: image.eTag, sequencer: '01' }]));
    ports.objects.delete('a.jpg');
    expect(await handler(s3Event([{ key: 'a.jpg', sequencer: '02', eventName: 'ObjectRemoved:Delete' }]))).toMatchObject({ skipped: 1 });
    expect(ports.outputs.size).toBe(2);
    expect(ports.items.get('s3://uploads/a.jpg')?.Status).toBe('SUCCEEDED');
  });

  it('a creation whose item write is refused by a later removal takes back the outputs it wrote', async () => {
    const image = ports.put('r.jpg', await photo(50, 50));
    // The removal was recorded while this creation was being processed.
    ports.items.set('s3://uploads/r.jpg', { ...succeeded, ImageID: 's3://uploads/r.jpg', Outputs: [], Status: 'DELETED', Sequencer: storedSequencer('0B') });
    const original = ports.putObject.bind(ports);
    ports.putObject = (request) => {
      ports.objects.delete('r.jpg');
      return original(request);
    };
    const summary = await createHandler({ env: ENV, ports, notifications })(s3Event([{ key: 'r.jpg', eTag: image.eTag, sequencer: '0A' }]));
    expect(summary.results[0]).toMatchObject({ status: 'SKIPPED' });
    expect(ports.outputs.size).toBe(0);
  });

  it('guesses output keys for both the source extension and the output format when no item lists them', () => {
    const settings = loadFunctionSettings({ ...ENV, OUTPUT_FORMAT: 'webp' });
    expect(candidateOutputKeys('a/b.jpg', settings)).toEqual([
      'resized/thumb/a/b.jpg',
      'resized/thumb/a/b.webp',
      'resized/small/a/b.jpg',
      'resized/small/a/b.webp',
    ]);
    expect(candidateOutputKeys('a/b.jpg', loadFunctionSettings({ ...ENV, SIZES: 'x=10x10', OUTPUT_FORMAT: 'original' }))).toEqual(['resized-a/b.jpg']);
  });
});
