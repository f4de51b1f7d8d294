import { InvokeCommand, LambdaClient, TooManyRequestsException, ResourceNotFoundException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { batchGetItems } from '../../src/aws/metadata-table.js';
import { invokeSynchronously, isThrottle } from '../../src/pipeline/invoke-function.js';

// Throttling and unprocessed keys are faults the local stack cannot produce on demand, hence the mocks.
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
  it('invokes RequestResponse with the JSON payload and retries throttled invokes', async () => {
    lambdaMock.on(InvokeCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({ StatusCode: 200, Payload: bytes('null') });
    const result = await invokeSynchronously(lambda, 'fn', { hello: 'world' }, { minTimeoutMs: 1, maxTimeoutMs: 2 });
    expect(result).toEqual({ functionError: undefined, errorMessage: undefined, attempts: 3 });
    const calls = lambdaMock.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(3);
    const input = calls[0]!.args[0].input;
    expect(input.FunctionName).toBe('fn');
    expect(input.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual({ hello: 'world' });
  });

  it('gives up on throttling after its retries', async () => {
    lambdaMock.on(InvokeCommand).rejects(throttled());
    await expect(invokeSynchronously(lambda, 'fn', {}, { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 })).rejects.toThrow(/Rate Exceeded/);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    lambdaMock.on(InvokeCommand).rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));
    await expect(invokeSynchronously(lambda, 'fn', {}, { minTimeoutMs: 1 })).rejects.toThrow(/Function not found/);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(isThrottle(throttled())).toBe(true);
  });

  it('reports a function error with the function\'s own message', async () => {
    const payload = bytes(JSON.stringify({ errorType: 'Error', errorMessage: 'Input buffer contains unsupported image format', trace: [] }));
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload });
    const result = await invokeSynchronously(lambda, 'fn', {});
    expect(result).toEqual({ functionError: 'Unhandled', errorMessage: 'Error: Input buffer contains unsupported image format', attempts: 1 });
  });
});

describe('batchGetItems', () => {
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
