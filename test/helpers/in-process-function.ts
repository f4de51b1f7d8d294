import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { inject, vi } from 'vitest';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { createTable } from '../../src/aws/dynamodb.js';
import { localTestContext } from './context.js';

export interface S3EventOptions {
  size?: number;
  /** Without quotes; left out where S3 leaves it out (removals). */
  eTag?: string;
  sequencer?: string;
  eventName?: string;
}

/** The event S3 sends for one object: key form-encoded, ETag without quotes. */
export function s3ObjectEvent(bucket: string, key: string, options: S3EventOptions = {}) {
  const { size = 1, eTag, sequencer, eventName = 'ObjectCreated:Put' } = options;
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName,
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeS3EventKey(key), size, ...(eTag === undefined ? {} : { eTag }), ...(sequencer === undefined ? {} : { sequencer }) },
        },
      },
    ],
  };
}

export interface FunctionResources {
  source: string;
  dest: string;
  table: string;
}

/** The function's buckets and table on the test's MiniStack, for a handler run in this process. */
export interface InProcessFunction {
  clients: AwsClients;
  /** Puts an object in the source bucket; its ETag, without quotes (as the event carries it). */
  upload(key: string, body: Buffer): Promise<string>;
  /** The metadata item of a source key (a consistent read: the handler has just written it). */
  item(key: string): Promise<MetadataItem | undefined>;
  /** Puts process.env and the console back (afterAll). */
  restore(): void;
}

/**
 * Creates the buckets and the table, gives process.env what Lambda gives the function (the endpoint, region,
 * credentials, plus `functionEnv`) and silences the function's log lines, so a test can call the handler
 * in process against the local stack.
 */
export async function setUpInProcessFunction(resources: FunctionResources, functionEnv: Record<string, string> = {}): Promise<InProcessFunction> {
  const savedEnv = { ...process.env };
  const test = await localTestContext();
  const clients = await test.context.clients();
  await clients.s3.send(new CreateBucketCommand({ Bucket: resources.source }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: resources.dest }));
  await createTable(clients.dynamodb, resources.table, 'ImageID', {});
  Object.assign(process.env, functionEnv, {
    AWS_ENDPOINT_URL: inject('ministackEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  const silenced = (['log', 'warn', 'error'] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => undefined));
  return {
    clients,
    async upload(key, body) {
      const response = await clients.s3.send(new PutObjectCommand({ Bucket: resources.source, Key: key, Body: body }));
      return (response.ETag ?? '').replace(/"/g, '');
    },
    async item(key) {
      const response = await clients.documents.send(
        new GetCommand({ TableName: resources.table, Key: { ImageID: `s3://${resources.source}/${key}` }, ConsistentRead: true }),
      );
      return response.Item as MetadataItem | undefined;
    },
    restore() {
      process.env = savedEnv;
      for (const spy of silenced) spy.mockRestore();
    },
  };
}
