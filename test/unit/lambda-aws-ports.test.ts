import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { awsRecordPorts } from '../../lambda-src/aws-ports.js';
import { NewerItemError, ObjectNotFoundError, ReadDeniedError, SourceChangedError } from '../../lambda-src/core/process-record.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';

// S3's answers that the local stack cannot give (403 for a missing grant) are mocked; the mapping is what is tested.
const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const s3Mock = mockClient(s3);
const documentsMock = mockClient(documents);
const ports = awsRecordPorts({ s3, documents }, 'images');

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

afterEach(() => {
  s3Mock.reset();
  documentsMock.reset();
});

describe('the AWS ports of the function', () => {
  it('sends the event ETag quoted in If-Match, multipart ETags included', async () => {
    s3Mock.on(GetObjectCommand).resolves({ ContentLength: 3, ETag: '"abc-3"' });
    const object = await ports.getObject('uploads', 'a b.jpg', { ifMatch: 'abc-3' });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'uploads', Key: 'a b.jpg', IfMatch: '"abc-3"' });
    expect(object.eTag).toBe('abc-3');
  });

  it('tells a missing, a replaced and a forbidden object apart, and lets other errors through', async () => {
    const cases: [string, number, unknown][] = [
      ['NoSuchKey', 404, ObjectNotFoundError],
      ['PreconditionFailed', 412, SourceChangedError],
      ['AccessDenied', 403, ReadDeniedError],
    ];
    for (const [name, status, type] of cases) {
      s3Mock.on(GetObjectCommand).rejects(s3Error(name, status));
      await expect(ports.getObject('uploads', 'a.jpg', { ifMatch: 'abc' })).rejects.toBeInstanceOf(type);
    }
    const slowDown = s3Error('SlowDown', 503);
    s3Mock.on(GetObjectCommand).rejects(slowDown);
    await expect(ports.getObject('uploads', 'a.jpg', {})).rejects.toBe(slowDown);
  });

  it('turns a refused conditional write into NewerItemError, never a retryable error', async () => {
    documentsMock.on(PutCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    const item = { ImageID: 's3://uploads/a.jpg', SourceLastModified: '2025-01-01T00:00:00.000Z' } as MetadataItem;
    await expect(ports.putItem(item)).rejects.toBeInstanceOf(NewerItemError);
    expect(documentsMock.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(SourceLastModified) OR SourceLastModified <= :lastModified',
    });
  });
});
