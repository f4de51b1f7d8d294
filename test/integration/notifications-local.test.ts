import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import type { ImageNotification } from '../../lambda-src/core/notification.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';

interface Received {
  notification: ImageNotification;
  attributes: Record<string, string | undefined>;
}

describe('notifications from the deployed function, through SNS to SQS subscribers, on the local stack', () => {
  const endpoint = inject('ministackEndpoint');
  const sns = new SNSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  let stack: DeployedTestStack;
  let topicArn: string;
  const queues: Record<'all' | 'failed', string> = { all: '', failed: '' };

  /** A queue subscribed to the topic (raw delivery), with a policy letting only that topic send to it. */
  async function subscribedQueue(name: string, filterPolicy?: object): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes?.QueueArn ?? '';
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': topicArn } } },
      ],
    };
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true', ...(filterPolicy ? { FilterPolicy: JSON.stringify(filterPolicy) } : {}) },
      }),
    );
    return QueueUrl ?? '';
  }

  /** Receives until `count` messages arrived (or the time is up), then a little longer, to catch extra ones. */
  async function receive(queueUrl: string, count: number, timeoutMs = 120_000): Promise<Received[]> {
    const received: Received[] = [];
    const deadline = Date.now() + timeoutMs;
    let quietUntil: number | undefined;
    while (Date.now() < deadline && (quietUntil === undefined || Date.now() < quietUntil)) {
      const response = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      for (const message of response.Messages ?? []) {
        received.push({
          notification: JSON.parse(message.Body ?? '{}') as ImageNotification,
          attributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue])),
        });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
      if (received.length >= count) quietUntil ??= Date.now() + 3_000;
    }
    return received;
  }

  beforeAll(async () => {
    stack = await deployTestStack({ sizes: 'thumb=100x100,small=50x50' });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${stack.settings.stackName}-events` }));
    topicArn = TopicArn ?? '';
    queues.all = await subscribedQueue(`${stack.settings.stackName}-all`);
    queues.failed = await subscribedQueue(`${stack.settings.stackName}-failed`, { status: ['FAILED'] });
    // What init will set once it creates the topic (a later round): the function's NOTIFY_TOPIC_ARN.
    const clients = await stack.context.clients();
    const current = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: stack.settings.functionName }));
    await clients.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: stack.settings.functionName,
        Environment: { Variables: { ...current.Environment?.Variables, NOTIFY_TOPIC_ARN: topicArn } },
      }),
    );
    await waitUntilFunctionUpdatedV2({ client: clients.lambda, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { FunctionName: stack.settings.functionName });
  });

  afterAll(() => {
    sns.destroy();
    sqs.destroy();
    stack.context.close();
  });

  it('a filtered subscriber gets exactly the failed images of a mixed upload; an unfiltered one gets one message per image', async () => {
    const clients = await stack.context.clients();
    const good = { 'mixed/a.jpg': await photo(320, 200), 'mixed/b.jpg': await photo(200, 320), 'top.jpg': await photo(64, 64) };
    const bad = { 'mixed/notes.jpg': Buffer.from('not an image at all\n'), 'mixed/cut.jpg': (await photo(300, 300)).subarray(0, 200) };
    for (const [key, body] of Object.entries({ ...good, ...bad })) {
      await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: body }));
    }

    const all = await receive(queues.all, 5);
    const failed = await receive(queues.failed, 2, 30_000);

    expect(all.map((m) => m.notification.source.key).sort()).toEqual([...Object.keys(good), ...Object.keys(bad)].sort());
    expect(failed.map((m) => m.notification.source.key).sort()).toEqual(Object.keys(bad).sort());
    expect(failed.every((m) => m.notification.type === 'image.failed' && m.attributes.status === 'FAILED' && m.attributes.errorCode !== undefined)).toBe(true);

    // The messages match the table's items, one each.
    const scan = await clients.documents.send(new ScanCommand({ TableName: stack.settings.table }));
    const items = (scan.Items ?? []) as MetadataItem[];
    expect(items).toHaveLength(5);
    for (const item of items) {
      const message = all.find((m) => m.notification.imageId === item.ImageID);
      expect(message?.notification).toMatchObject({
        schemaVersion: 1,
        status: item.Status,
        destinationBucket: stack.settings.destBucket,
        outputs: item.Outputs.map((o) => ({ key: o.Key, size: o.Size, width: o.Width, height: o.Height, bytes: o.Bytes, format: o.Format })),
      });
    }
    const a = all.find((m) => m.notification.source.key === 'mixed/a.jpg');
    expect(a?.attributes).toEqual({ type: 'image.processed', status: 'SUCCEEDED', format: 'png', sourcePrefix: 'mixed' });
    expect(a?.notification.outputs.map((o) => [o.size, o.width, o.height])).toEqual([
      ['thumb', 100, 100],
      ['small', 50, 50],
    ]);
    expect(all.find((m) => m.notification.source.key === 'top.jpg')?.attributes.sourcePrefix).toBeUndefined();
  });
});
