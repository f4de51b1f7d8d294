import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { awsRecordPorts } from '../../lambda-src/aws-ports.js';

// The If-Match, missing/replaced/forbidden object and conditional-write cases run against the local stack in
// test/integration/lambda-aws-ports-local.test.ts; only what an emulator cannot answer is mocked here.
const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const s3Mock = mockClient(s3);
const ports = awsRecordPorts({ s3, documents }, 'images');

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

afterEach(() => {
  s3Mock.reset();
});

describe('the AWS ports of the function', () => {
  // MiniStack never throttles S3 (no 503 SlowDown), so the pass-through of an unmapped error needs a mock.
  it('lets other errors, such as SlowDown, through unchanged', async () => {
    const slowDown = s3Error('SlowDown', 503);
    s3Mock.on(GetObjectCommand).rejects(slowDown);
    await expect(ports.getObject('uploads', 'a.jpg', {})).rejects.toBe(slowDown);
  });
});
