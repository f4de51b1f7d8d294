import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type GetObjectCommandInput,
} from '@aws-sdk/client-s3';
import type { PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { awsRecordPorts } from '../../lambda-src/aws-ports.js';
import { NewerItemError, ObjectNotFoundError, ReadDeniedError, SourceChangedError, type RecordPorts } from '../../lambda-src/core/process-record.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { storedSequencer } from '../../lambda-src/core/sequencer.js';
import { itemWriteCondition } from '../../lambda-src/core/write-condition.js';
import { AwsClients } from '../../src/aws/clients.js';
import { localTarget } from '../../src/aws/target.js';
import { localTestContext, type TestContext } from '../helpers/context.js';
import { uniqueStackName } from '../helpers/deploy.js';
import { createTable } from '../../src/aws/dynamodb.js';
import { captureInputs } from '../helpers/request-recorder.js';


describe('the AWS ports of the function, on the local stack', () => {
  let test: TestContext;
  let clients: AwsClients;
  let ports: RecordPorts;
  let getObjectInputs: GetObjectCommandInput[];
  let putInputs: PutItemCommandInput[];
  const bucket = `${uniqueStackName('ports')}-uploads`;
  const table = `${uniqueStackName('ports')}-metadata`;

  beforeAll(async () => {
    test = await localTestContext();
    clients = await test.context.clients();
    getObjectInputs = captureInputs<GetObjectCommandInput>(clients.s3, 'GetObjectCommand');
    // The document client's PutCommand goes out as PutItem through the client it wraps.
    putInputs = captureInputs<PutItemCommandInput>(clients.dynamodb, 'PutItemCommand');
    ports = awsRecordPorts({ s3: clients.s3, documents: clients.documents }, table);
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await createTable(clients.dynamodb, table, 'ImageID', {});
  });

  afterAll(() => {
    test.context.close();
  });

  it('sends the event ETag quoted in If-Match, multipart ETags included', async () => {
    // A two-part upload, so the ETag is a multipart one ("<md5 of md5s>-2").
    const key = 'a b.jpg';
    const { UploadId } = await clients.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('abc')];
    const uploaded = await Promise.all(
      parts.map(async (body, i) => {
        const { ETag } = await clients.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }));
        return { ETag, PartNumber: i + 1 };
      }),
    );
    const done = await clients.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: uploaded } }));
    const eventETag = done.ETag?.replace(/"/g, '') ?? '';
    expect(eventETag).toMatch(/^[0-9a-f]{32}-2$/);

    const object = await ports.getObject(bucket, key, { ifMatch: eventETag });
    object.discard();
    expect(getObjectInputs.at(-1)).toMatchObject({ Bucket: bucket, Key: key, IfMatch: `"${eventETag}"` });
    expect(object.eTag).toBe(eventETag);
  });

  it('tells a missing, a replaced and a forbidden object apart', async () => {
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.jpg', Body: 'first' }));
    const { ETag: stale } = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'replaced.jpg', Body: 'first' }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'replaced.jpg', Body: 'second' }));
    // A bucket another account owns and has granted nothing on: S3 answers 403 AccessDenied.
    const otherAccount = new AwsClients({ ...localTarget(inject('ministackEndpoint'), {}), credentials: { accessKeyId: '111111111111', secretAccessKey: 'x' } });
    const foreignBucket = `${uniqueStackName('ports')}-foreign`;
    await otherAccount.s3.send(new CreateBucketCommand({ Bucket: foreignBucket }));
    await otherAccount.s3.send(new PutObjectCommand({ Bucket: foreignBucket, Key: 'a.jpg', Body: 'theirs' }));
    otherAccount.destroy();

    await expect(ports.getObject(bucket, 'missing.jpg', { ifMatch: 'abc' })).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(ports.getObject(bucket, 'replaced.jpg', { ifMatch: stale?.replace(/"/g, '') })).rejects.toBeInstanceOf(SourceChangedError);
    await expect(ports.getObject(foreignBucket, 'a.jpg', { ifMatch: 'abc' })).rejects.toBeInstanceOf(ReadDeniedError);
  });

  it('turns a refused conditional write into NewerItemError, never a retryable error', async () => {
    const imageId = `s3://${bucket}/a.jpg`;
    await clients.documents.send(new PutCommand({ TableName: table, Item: { ImageID: imageId, SourceLastModified: '2025-06-01T00:00:00.000Z', Status: 'SUCCEEDED' } }));
    const item = { ImageID: imageId, SourceLastModified: '2025-01-01T00:00:00.000Z' } as MetadataItem;
    await expect(ports.putItem(item)).rejects.toBeInstanceOf(NewerItemError);
    expect(putInputs.at(-1)).toMatchObject({ ConditionExpression: itemWriteCondition(item).ConditionExpression });
    const { Item } = await clients.documents.send(new GetCommand({ TableName: table, Key: { ImageID: imageId }, ConsistentRead: true }));
    expect(Item?.SourceLastModified).toBe('2025-06-01T00:00:00.000Z');
  });

  it('orders writes by sequencer: a lesser one is refused, an equal one rewrites, an item without one is overwritten', async () => {
    const imageId = `s3://${bucket}/seq.jpg`;
    const read = async (): Promise<Record<string, unknown> | undefined> =>
      (await clients.documents.send(new GetCommand({ TableName: table, Key: { ImageID: imageId }, ConsistentRead: true }))).Item;
    // Written before sequencers were stored, with a later Last-Modified: overwritten all the same.
    await clients.documents.send(new PutCommand({ TableName: table, Item: { ImageID: imageId, SourceLastModified: '2999-01-01T00:00:00.000Z', Status: 'SUCCEEDED' } }));
    const at = (sequencer: string, extra: Partial<MetadataItem> = {}) =>
      ({ ImageID: imageId, Status: 'SUCCEEDED', SourceLastModified: '2025-01-01T00:00:00.000Z', Sequencer: storedSequencer(sequencer), ...extra }) as MetadataItem;
    await ports.putItem(at('0055AED6DCD90281E5'));
    expect(await read()).toMatchObject({ Sequencer: storedSequencer('0055AED6DCD90281E5') });
    // Shorter but greater once padded: 0x1000000000000000000 > 0x0055AED6DCD90281E5.
    await ports.putItem(at('1000000000000000000'));
    await expect(ports.putItem(at('0055AED6DCD90281E6'))).rejects.toBeInstanceOf(NewerItemError);
    await ports.putItem(at('1000000000000000000', { DurationMs: 7 }));
    expect(await read()).toMatchObject({ Sequencer: storedSequencer('1000000000000000000'), DurationMs: 7 });

    // A removal returns the item it replaced, under the same rule.
    const previous = await ports.markDeleted!(at('2000000000000000000', { Status: 'DELETED', Outputs: [] }));
    expect(previous).toMatchObject({ Status: 'SUCCEEDED', DurationMs: 7 });
    await expect(ports.markDeleted!(at('1000000000000000000', { Status: 'DELETED' }))).rejects.toBeInstanceOf(NewerItemError);

    // Without a sequencer (the backfill): a same-second item an event ordered wins unless it is the same object.
    const { Sequencer: _none, ...unordered } = at('0', { SourceLastModified: '2025-01-01T00:00:00.000Z', SourceETag: 'other' });
    await ports.putItem(at('3000000000000000000', { SourceETag: 'stored' }));
    await expect(ports.putItem(unordered)).rejects.toBeInstanceOf(NewerItemError);
    await ports.putItem({ ...unordered, SourceETag: 'stored' });
    await ports.putItem({ ...unordered, SourceLastModified: '2025-01-01T00:00:01.000Z' });
    expect(await read()).toMatchObject({ SourceLastModified: '2025-01-01T00:00:01.000Z', SourceETag: 'other' });
  });

  it('deletes objects in one request, keys that do not exist included', async () => {
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'resized/x/one.png', Body: 'x' }));
    await ports.deleteObjects!(bucket, ['resized/x/one.png', 'resized/x/never-there.png']);
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'resized/' }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});
