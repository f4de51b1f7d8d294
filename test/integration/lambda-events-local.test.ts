import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { awsRecordPorts } from '../../lambda-src/aws-ports.js';
import type { RecordPorts, SourceObject } from '../../lambda-src/core/process-record.js';
import { storedSequencer } from '../../lambda-src/core/sequencer.js';
import { createHandler } from '../../lambda-src/handler.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import { uniqueStackName } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { s3ObjectEvent, setUpInProcessFunction, type InProcessFunction } from '../helpers/in-process-function.js';

const prefix = uniqueStackName('ev');
const SOURCE = `${prefix}-uploads`;
const DEST = `${prefix}-resized`;
const TABLE = `${prefix}-images`;
const ENV = { SOURCE_BUCKET: SOURCE, DEST_BUCKET: DEST, TABLE_NAME: TABLE, SIZES: 'thumb=200x200,medium=400x400', OUTPUT_FORMAT: 'png', FIT: 'inside' };

let clients: AwsClients;
let s3: S3Client;
let stack: InProcessFunction;

/** A multipart upload in one part (the last part of an upload may be of any size). */
async function uploadMultipart(key: string, body: Buffer): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: SOURCE, Key: key }));
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket: SOURCE, Key: key, UploadId, PartNumber: 1, Body: body }));
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: SOURCE, Key: key, UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }),
  );
  return (done.ETag ?? '').replace(/"/g, '');
}

function event(key: string, sequencer: string, options: { eTag?: string; eventName?: string } = {}) {
  return s3ObjectEvent(SOURCE, key, { sequencer, ...options });
}

async function outputSize(key: string): Promise<[number | undefined, number | undefined]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: DEST, Key: key }));
  const meta = await sharp(Buffer.from(await object.Body!.transformToByteArray())).metadata();
  return [meta.width, meta.height];
}

async function destKeys(under: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: DEST }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.includes(under)).sort();
}

/**
 * The real ports, except that right after the first source read of `key` (the older upload's body is in
 * memory) `meanwhile` runs to completion: the newer upload lands and is processed before the older run writes.
 * This is the interleaving of the reported race, made deterministic.
 */
function portsWithRace(key: string, meanwhile: () => Promise<void>): RecordPorts {
  const real = awsRecordPorts(clients, TABLE);
  let raced = false;
  return {
    ...real,
    async getObject(bucket: string, objectKey: string, options: { ifMatch?: string | undefined }): Promise<SourceObject> {
      const object = await real.getObject(bucket, objectKey, options);
      if (raced || objectKey !== key) return object;
      raced = true;
      const body = await object.read();
      await meanwhile();
      return { ...object, read: () => Promise.resolve(body) };
    },
  };
}

describe('event ordering, removals and SQS-wrapped events, in process against the local stack', () => {
  beforeAll(async () => {
    stack = await setUpInProcessFunction({ source: SOURCE, dest: DEST, table: TABLE });
    clients = stack.clients;
    s3 = clients.s3;
  });

  afterAll(() => {
    stack.restore();
  });

  it('overwrite race: a large image, then at once a small one under the same key, ends with the small one (repeated)', async () => {
    const large = await photo(2560, 1440);
    const small = await photo(120, 80);
    // Before sequencers, both versions' same Last-Modified second let the older write through every time.
    for (let run = 0; run < 3; run += 1) {
      const key = `race-${run}.jpg`;
      const largeTag = await stack.upload(key, large);
      const handler = createHandler({
        env: ENV,
        ports: portsWithRace(key, async () => {
          const smallTag = await stack.upload(key, small);
          const newer = await createHandler({ env: ENV })(event(key, `00${run}5AED6DCD90281F0`, { eTag: smallTag }));
          expect(newer).toMatchObject({ succeeded: 1 });
        }),
      });
      const older = await handler(event(key, `00${run}5AED6DCD90281E5`, { eTag: largeTag }));
      // The older run's item write was refused; its repair pass rewrote the outputs from the current object.
      expect(older.results[0]).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^superseded/) as string });
      expect(await stack.item(key)).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 120, OriginalHeight: 80, Sequencer: storedSequencer(`00${run}5AED6DCD90281F0`) });
      expect(await outputSize(`resized/medium/race-${run}.png`)).toEqual([120, 80]);
      expect(await outputSize(`resized/thumb/race-${run}.png`)).toEqual([120, 80]);
    }
  });

  it('events delivered in either order end with the newer upload', async () => {
    const handler = createHandler({ env: ENV });
    const first = await photo(640, 480);
    const second = await photo(300, 200);

    // Newer event first: the older one's read no longer matches its ETag, and its write would be refused.
    const firstTag = await stack.upload('order-a.jpg', first);
    const secondTag = await stack.upload('order-a.jpg', second);
    await handler(event('order-a.jpg', '0B', { eTag: secondTag }));
    expect(await handler(event('order-a.jpg', '0A', { eTag: firstTag }))).toMatchObject({ skipped: 1 });
    expect(await stack.item('order-a.jpg')).toMatchObject({ OriginalWidth: 300, Sequencer: storedSequencer('0B') });

    // In order: each replaces the last.
    const thirdTag = await stack.upload('order-b.jpg', first);
    await handler(event('order-b.jpg', '0A', { eTag: thirdTag }));
    const fourthTag = await stack.upload('order-b.jpg', second);
    await handler(event('order-b.jpg', '0B', { eTag: fourthTag }));
    expect(await stack.item('order-b.jpg')).toMatchObject({ OriginalWidth: 300, Sequencer: storedSequencer('0B') });
    expect(await outputSize('resized/medium/order-b.png')).toEqual([300, 200]);
  });

  it('a single-part upload and a multipart upload of the same key race like any two uploads', async () => {
    const key = 'multi.jpg';
    const singleTag = await stack.upload(key, await photo(1600, 1200));
    let multipartTag = '';
    const small = await photo(160, 90);
    const handler = createHandler({
      env: ENV,
      ports: portsWithRace(key, async () => {
        multipartTag = await uploadMultipart(key, small);
        await createHandler({ env: ENV })(event(key, '0065A1B2C3D4E5F700', { eTag: multipartTag, eventName: 'ObjectCreated:CompleteMultipartUpload' }));
      }),
    });
    await handler(event(key, '0065A1B2C3D4E5F601', { eTag: singleTag }));
    expect(multipartTag).toMatch(/-1$/);
    expect(await stack.item(key)).toMatchObject({ SourceETag: multipartTag, OriginalWidth: 160 });
    expect(await outputSize('resized/medium/multi.png')).toEqual([160, 90]);

    // The other way round: multipart first, then a single-part upload.
    const multiAgain = await uploadMultipart(key, await photo(800, 600));
    await createHandler({ env: ENV })(event(key, '0065A1B2C3D4E5F800', { eTag: multiAgain, eventName: 'ObjectCreated:CompleteMultipartUpload' }));
    const singleAgain = await stack.upload(key, small);
    await createHandler({ env: ENV })(event(key, '0065A1B2C3D4E5F900', { eTag: singleAgain }));
    expect(await stack.item(key)).toMatchObject({ SourceETag: singleAgain, OriginalWidth: 160 });
  });

  it('a removal deletes the outputs and marks the item; delete then re-upload ends with the new image', async () => {
    const handler = createHandler({ env: ENV });
    const key = 'gone/cat.jpg';
    const tag = await stack.upload(key, await photo(640, 480));
    await handler(event(key, '0A', { eTag: tag }));
    expect(await destKeys('gone/')).toEqual(['resized/medium/gone/cat.png', 'resized/thumb/gone/cat.png']);

    await s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: key }));
    expect(await handler(event(key, '0B', { eventName: 'ObjectRemoved:Delete' }))).toMatchObject({ deleted: 1 });
    expect(await destKeys('gone/')).toEqual([]);
    expect(await stack.item(key)).toMatchObject({ Status: 'DELETED', Outputs: [], Sequencer: storedSequencer('0B') });
    // The upload's event delivered again, late: refused.
    expect(await handler(event(key, '0A', { eTag: tag }))).toMatchObject({ skipped: 1 });
    expect(await stack.item(key)).toMatchObject({ Status: 'DELETED' });

    const newTag = await stack.upload(key, await photo(320, 240));
    await handler(event(key, '0C', { eTag: newTag }));
    expect(await stack.item(key)).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 320, Sequencer: storedSequencer('0C') });
    expect(await outputSize('resized/medium/gone/cat.png')).toEqual([320, 240]);
    // The removal delivered again after the re-upload was recorded: it changes nothing.
    expect(await handler(event(key, '0B', { eventName: 'ObjectRemoved:Delete' }))).toMatchObject({ skipped: 1 });
    expect(await destKeys('gone/')).toEqual(['resized/medium/gone/cat.png', 'resized/thumb/gone/cat.png']);
  });

  it('fails the invocation while the topic cannot take the message, and the retry publishes it', async () => {
    const endpoint = inject('ministackEndpoint');
    const sns = new SNSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    const topicName = `${prefix}-late-topic`;
    const topicArn = `arn:aws:sns:us-east-1:000000000000:${topicName}`;
    const handler = createHandler({ env: { ...ENV, NOTIFY_TOPIC_ARN: topicArn } });
    const tag = await stack.upload('notify/one.jpg', await photo(120, 80));
    const once = event('notify/one.jpg', '0A', { eTag: tag });

    // The topic does not exist yet: publishing fails, so the invocation throws (Lambda would retry it).
    await expect(handler(once)).rejects.toThrow(/topic|not ?found|exist/i);
    expect(await stack.item('notify/one.jpg')).toMatchObject({ Status: 'SUCCEEDED' });

    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: topicName }));
    expect(TopicArn).toBe(topicArn);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-late-queue` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
    // The retry: same event, same item rewritten, and the message goes out.
    expect(await handler(once)).toMatchObject({ succeeded: 1 });
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }));
    expect((received.Messages ?? []).map((m) => (JSON.parse(m.Body ?? '{}') as { imageId?: string }).imageId)).toEqual([`s3://${SOURCE}/notify/one.jpg`]);
    sns.destroy();
    sqs.destroy();
  });

  it("processes S3's own notifications delivered through SQS, with S3's sequencers, reporting no batch failures", async () => {
    const endpoint = inject('ministackEndpoint');
    const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-s3-events` }));
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: SOURCE,
        NotificationConfiguration: {
          QueueConfigurations: [
            { QueueArn: attributes.Attributes?.QueueArn, Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'sqs/' }] } } },
          ],
        },
      }),
    );
    await stack.upload('sqs/one.jpg', await photo(300, 200));
    await stack.upload('sqs/one.jpg', await photo(100, 50));
    await s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'sqs/one.jpg' }));
    await stack.upload('sqs/one.jpg', await photo(90, 60));

    const messages: Message[] = [];
    for (let attempt = 0; attempt < 20 && messages.length < 4; attempt += 1) {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      messages.push(...(received.Messages ?? []).filter((m) => !(m.Body ?? '').includes('s3:TestEvent')));
    }
    expect(messages).toHaveLength(4);
    for (const message of messages) await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
    // Delivered in reverse, the worst order; the sequencers S3 gave them put the last upload on top.
    const sqsEvent = {
      Records: messages.reverse().map((m) => ({ eventSource: 'aws:sqs', messageId: m.MessageId, body: m.Body, receiptHandle: m.ReceiptHandle })),
    };
    const summary = await createHandler({ env: ENV })(sqsEvent);
    expect(summary.batchItemFailures).toEqual([]);
    expect(await stack.item('sqs/one.jpg')).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 90, OriginalHeight: 60 });
    expect(await outputSize('resized/medium/sqs/one.png')).toEqual([90, 60]);
    sqs.destroy();
  });
});
