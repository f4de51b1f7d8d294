import { InvokeCommand, LambdaClient, TooManyRequestsException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { batchGetItems } from '../../src/aws/metadata-table.js';
import { invokeSynchronously, isThrottle } from '../../src/operations/invoke-function.js';

// Only what the local stack cannot produce is mocked here: AWS's wording of a function error, and UnprocessedKeys.
const lambda = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const lambdaMock = mockClient(lambda);
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const documentsMock = mockClient(documents);

afterEach(() => {
  lambdaMock.reset();
  documentsMock.reset();
});

/** Response payloads are blob adapters in the SDK's types; the code under test reads them as plain bytes. */
const bytes = (text: string): InvokeCommandOutput['Payload'] => new TextEncoder().encode(text) as InvokeCommandOutput['Payload'];

const throttled = (): TooManyRequestsException =>
  new TooManyRequestsException({ message: 'Rate Exceeded.', $metadata: { httpStatusCode: 429 }, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });

describe('invokeSynchronously', () => {
  // Throttled, missing-function and throwing-function invokes run against the local stack in
  // test/integration/backfill-invoke-local.test.ts.
  it('recognises Lambda\'s throttling errors', () => {
    expect(isThrottle(throttled())).toBe(true);
  });

  // Mocked because MiniStack reports every thrown error as errorType "Runtime.HandlerError"; AWS sends the error's name.
  it('reports a function error with the function\'s own message, as AWS words it', async () => {
    const payload = bytes(JSON.stringify({ errorType: 'Error', errorMessage: 'Input buffer contains unsupported image format', trace: [] }));
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', ...(payload === undefined ? {} : { Payload: payload }) });
    const result = await invokeSynchronously(lambda, 'fn', {});
    expect(result).toEqual({ functionError: 'Unhandled', errorMessage: 'Error: Input buffer contains unsupported image format', attempts: 1 });
  });
});

describe('batchGetItems', () => {
  // Mocked because MiniStack serves every key of an existing table at once: it never leaves UnprocessedKeys.
  it('reads in batches of 100 and retries unprocessed keys', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `s3://b/${i}.jpg`);
    const sleeps: number[] = [];
    let first = true;
    documentsMock.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { ImageID: string }[] }> }) => {
      const keys = input.RequestItems.table!.Keys;
      // The first request leaves half of its keys unprocessed, as DynamoDB does under load.
      const served = first ? keys.slice(0, 50) : keys;
      const unprocessed = first ? keys.slice(50) : [];
      first = false;
      return Promise.resolve({
        Responses: { table: served.filter((k) => !k.ImageID.endsWith('7.jpg')).map((k) => ({ ImageID: k.ImageID, Status: 'SUCCEEDED' })) },
        UnprocessedKeys: unprocessed.length > 0 ? { table: { Keys: unprocessed, ConsistentRead: true } } : {},
      });
    });
    const found = await batchGetItems(documents, 'table', [...ids, ids[0]!], { attributes: ['ImageID', 'Status'], sleep: (ms) => { sleeps.push(ms); return Promise.resolve(); } });
    const calls = documentsMock.commandCalls(BatchGetCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems!.table!.Keys!.length)).toEqual([100, 50, 100, 50]);
    expect(calls[0]!.args[0].input.RequestItems!.table).toMatchObject({
      ConsistentRead: true,
      ProjectionExpression: '#a0, #a1',
      ExpressionAttributeNames: { '#a0': 'ImageID', '#a1': 'Status' },
    });
    expect(sleeps).toHaveLength(1);
    expect(found.size).toBe(225);
    expect(found.has('s3://b/7.jpg')).toBe(false);
    expect(found.get('s3://b/8.jpg')).toEqual({ ImageID: 's3://b/8.jpg', Status: 'SUCCEEDED' });
  });
});
