import { createHash } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { ObjectNotFoundError, type PutObjectRequest, type RecordPorts, type SourceObject } from '../../lambda-src/core/process-record.js';
import { SYNTHESIZED_EVENT_PRINCIPAL } from '../../lambda-src/core/event.js';
import { parseWorkflowEvent, WorkflowInputError } from '../../lambda-src/core/workflow.js';
import { createHandler } from '../../lambda-src/handler.js';
import { photo } from '../helpers/images.js';

const ENV = { DEST_BUCKET: 'resized', TABLE_NAME: 'images', SOURCE_BUCKET: 'uploads', SIZES: 'thumb=100x100,small=40x40' };

/** S3 in memory; the workflow never writes items, so putItem must not be called. */
class MemoryObjects implements RecordPorts {
  readonly objects = new Map<string, { body: Buffer; eTag: string }>();
  readonly puts: PutObjectRequest[] = [];
  itemWrites = 0;
  failReads: Error | undefined;

  put(key: string, body: Buffer): string {
    const eTag = createHash('md5').update(body).digest('hex');
    this.objects.set(key, { body, eTag });
    return eTag;
  }

  getObject(_bucket: string, key: string): Promise<SourceObject> {
    if (this.failReads) return Promise.reject(this.failReads);
    const object = this.objects.get(key);
    if (!object) return Promise.reject(new ObjectNotFoundError());
    return Promise.resolve({
      contentLength: object.body.length,
      eTag: object.eTag,
      lastModified: new Date('2026-01-02T03:04:05Z'),
      read: () => Promise.resolve(object.body),
      discard: () => undefined,
    });
  }

  putObject(request: PutObjectRequest): Promise<void> {
    this.puts.push(request);
    return Promise.resolve();
  }

  putItem(_item: MetadataItem): Promise<void> {
    this.itemWrites += 1;
    return Promise.resolve();
  }
}

/** EventBridge's "Object Created" event, as the rule starts executions with it (keys are not form-encoded). */
function objectCreated(key: string, eTag: string, options: { sequencer?: string; requester?: string } = {}) {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: '2026-01-02T03:04:05Z',
    region: 'us-east-1',
    resources: ['arn:aws:s3:::uploads'],
    detail: {
      version: '0',
      bucket: { name: 'uploads' },
      object: { key, size: 1, etag: eTag, ...(options.sequencer === undefined ? {} : { sequencer: options.sequencer }) },
      'request-id': 'r1',
      requester: options.requester ?? '000000000000',
      reason: 'PutObject',
    },
  };
}

describe('workflow mode: the Resize state', () => {
  it('resizes and writes the outputs, and returns the item, its write condition and notification instead of writing it', async () => {
    const ports = new MemoryObjects();
    const eTag = ports.put('albums/a cat.jpg', await photo(640, 480));
    const handler = createHandler({ env: ENV, ports });

    const result = await handler({ workflow: 'resize', event: objectCreated('albums/a cat.jpg', eTag, { sequencer: '0065A1B2C3D4E5F600' }) });

    expect(result).toMatchObject({ outcome: 'SUCCEEDED', imageId: 's3://uploads/albums/a cat.jpg', bucket: 'uploads', key: 'albums/a cat.jpg' });
    expect(ports.itemWrites).toBe(0);
    expect(ports.puts.map((put) => put.key).sort()).toEqual(result.outputs?.slice().sort());
    const outputs = await Promise.all(ports.puts.map((put) => sharp(put.body).metadata()));
    expect(outputs.map((meta) => Math.max(meta.width, meta.height)).sort((a, b) => a - b)).toEqual([40, 100]);
    // DynamoDB JSON, as the Record state's dynamodb:putItem takes it.
    expect(result.item?.ImageID).toEqual({ S: 's3://uploads/albums/a cat.jpg' });
    const item = unmarshall(result.item as never) as MetadataItem;
    expect(item).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 640, OriginalHeight: 480, SourceETag: eTag });
    expect(item.Outputs).toHaveLength(2);
    expect(result.write).toEqual({
      ConditionExpression: 'attribute_not_exists(#sequencer) OR #sequencer <= :sequencer',
      ExpressionAttributeNames: { '#sequencer': 'Sequencer' },
      ExpressionAttributeValues: { ':sequencer': { S: item.Sequencer } },
      hasValues: true,
    });
    expect(JSON.parse(result.notification?.Message ?? '{}')).toMatchObject({ type: 'image.processed', status: 'SUCCEEDED' });
    expect(result.notification?.MessageAttributes.status).toEqual({ DataType: 'String', StringValue: 'SUCCEEDED' });
  });

  it('returns a FAILED item with the code for a corrupt image, and writes no outputs', async () => {
    const ports = new MemoryObjects();
    const eTag = ports.put('bad.jpg', (await photo(400, 300)).subarray(0, 2_000));
    const result = await createHandler({ env: ENV, ports })({ workflow: 'resize', event: objectCreated('bad.jpg', eTag, { sequencer: '0065A1B2C3D4E5F700' }) });
    expect(result).toMatchObject({ outcome: 'FAILED', errorCode: 'CORRUPT_IMAGE' });
    expect(ports.puts).toEqual([]);
    expect(unmarshall(result.item as never)).toMatchObject({ Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE', Outputs: [] });
    expect(JSON.parse(result.notification?.Message ?? '{}')).toMatchObject({ type: 'image.failed' });
  });

  it('orders a backfill event (no sequencer) by the condition without values when the object is gone', async () => {
    const ports = new MemoryObjects();
    const result = await createHandler({ env: ENV, ports })({
      workflow: 'resize',
      event: objectCreated('gone.jpg', 'abc', { sequencer: '0065A1B2C3D4E5F800', requester: SYNTHESIZED_EVENT_PRINCIPAL }),
    });
    expect(result).toMatchObject({ outcome: 'FAILED', errorCode: 'NOT_FOUND' });
    expect(result.write).toEqual({ ConditionExpression: 'attribute_not_exists(#sequencer)', ExpressionAttributeNames: { '#sequencer': 'Sequencer' }, hasValues: false });
  });

  it('throws infrastructure errors, so the state retries', async () => {
    const ports = new MemoryObjects();
    ports.failReads = Object.assign(new Error('slow down'), { name: 'SlowDown' });
    await expect(createHandler({ env: ENV, ports })({ workflow: 'resize', event: objectCreated('a.jpg', 'abc', { sequencer: '01' }) })).rejects.toThrow(
      'slow down',
    );
  });

  it('carries the content insight and, with LABELS on, the Rekognition labels in the item it returns', async () => {
    const ports = new MemoryObjects();
    const analysed: string[] = [];
    const withAnalysis: RecordPorts = Object.assign(ports, {
      contentAnalysis: {
        detectLabels: () => {
          analysed.push('labels');
          return Promise.resolve([{ Name: 'Dog', Confidence: 97.5, Parents: ['Animal'] }]);
        },
        detectModerationLabels: () => Promise.resolve([]),
      },
    });
    const eTag = ports.put('dog.jpg', await photo(640, 480));
    const result = await createHandler({ env: { ...ENV, LABELS: 'on' }, ports: withAnalysis })({
      workflow: 'resize',
      event: objectCreated('dog.jpg', eTag, { sequencer: '0065A1B2C3D4E5F900' }),
    });
    expect(result.outcome).toBe('SUCCEEDED');
    expect(analysed).toEqual(['labels']);
    const item = unmarshall(result.item as never) as MetadataItem;
    expect(item.Labels).toEqual([{ Name: 'Dog', Confidence: 97.5, Parents: ['Animal'] }]);
    expect(item.PerceptualHash).toMatch(/^[0-9a-f]{16}$/);
    expect(ports.itemWrites).toBe(0);
  });

  it('skips the function\'s own outputs without an item to record', async () => {
    const ports = new MemoryObjects();
    const handler = createHandler({ env: { ...ENV, DEST_BUCKET: 'uploads' }, ports });
    const result = await handler({ workflow: 'resize', event: objectCreated('resized-thumb/a.jpg', 'abc', { sequencer: '01' }) });
    expect(result.outcome).toBe('SKIPPED');
    expect(result.item).toBeUndefined();
    expect(result.write).toBeUndefined();
  });
});

describe('workflow mode: reading the execution input', () => {
  it('reads an EventBridge event (raw key, "0" sequencer = none) and an S3 notification record (form-encoded key) alike', () => {
    const fromEventBridge = parseWorkflowEvent(objectCreated('a b+c.jpg', '"abc"', { sequencer: '0' }));
    const fromS3 = parseWorkflowEvent({
      Records: [
        { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'uploads' }, object: { key: encodeS3EventKey('a b+c.jpg'), eTag: 'abc' } } },
      ],
    });
    expect(fromEventBridge).toMatchObject({ bucket: 'uploads', key: 'a b+c.jpg', eTag: 'abc', sequencer: undefined, eventName: 'ObjectCreated:PutObject' });
    expect(fromS3).toMatchObject({ bucket: 'uploads', key: 'a b+c.jpg', eTag: 'abc' });
  });

  it('rejects what is not one object creation with a typed error', () => {
    expect(() => parseWorkflowEvent({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: {} })).toThrow(WorkflowInputError);
    expect(() => parseWorkflowEvent({ hello: 'world' })).toThrow(WorkflowInputError);
    const record = { eventSource: 'aws:s3', s3: { bucket: { name: 'b' }, object: { key: 'k' } } };
    expect(() => parseWorkflowEvent({ Records: [record, record] })).toThrow(/one object/);
  });
});
