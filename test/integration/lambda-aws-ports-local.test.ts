import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
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
    expect(putInputs.at(-1)).toMatchObject({
      ConditionExpression: 'attribute_not_exists(SourceLastModified) OR SourceLastModified <= :lastModified',
    });
    const { Item } = await clients.documents.send(new GetCommand({ TableName: table, Key: { ImageID: imageId }, ConsistentRead: true }));
    expect(Item?.SourceLastModified).toBe('2025-06-01T00:00:00.000Z');
  });
});
