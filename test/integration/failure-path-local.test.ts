import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../src/aws/clients.js';
import { deleteBucket, emptyBucket } from '../../src/aws/s3.js';
import { executeEvents } from '../../src/commands/events.js';
import { executeFailuresList, executeFailuresRedrive } from '../../src/commands/failures.js';
import { executeInit } from '../../src/commands/init.js';
import { executeStatus } from '../../src/commands/status.js';
import { queuePolicyForTopic } from '../../src/operations/events.js';
import { runFailuresList, runFailuresRedrive } from '../../src/operations/failures.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';

let stack: DeployedTestStack;
let clients: AwsClients;
let topicArn: string;

beforeAll(async () => {
  // No retries and the shortest event age, so a failing event reaches the queue within seconds.
  stack = await deployTestStack({ retryAttempts: 0, maxEventAgeSeconds: 60 });
  clients = await stack.context.clients();
  topicArn = `arn:aws:sns:us-east-1:${(await stack.context.identity()).account}:${stack.settings.stackName}-outcomes`;
});
afterAll(() => {
  stack.context.close();
});

async function upload(key: string): Promise<void> {
  await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: await photo(320, 240), ContentType: 'image/jpeg' }));
}

async function itemStatus(key: string): Promise<unknown> {
  const { Item } = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, key) } }));
  return Item?.Status;
}

async function eventQueues(): Promise<string[]> {
  return (await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${stack.settings.stackName}-events-` }))).QueueUrls ?? [];
}

describe('img-resizer events', () => {
  it('prints each outcome as a JSON line, and removes its queue and subscription when aborted', async () => {
    const watcher = await localTestContext({ json: true }, stack.cwd);
    const controller = new AbortController();
    const running = executeEvents(watcher.context, controller.signal);
    await poll('the events queue', async () => ((await eventQueues()).length === 1 ? true : undefined), 30_000);
    await upload('events/cat.jpg');
    const line = await poll('an event line', () => Promise.resolve(watcher.stdout().split('\n').find((l) => l.includes('events/cat.jpg'))));
    expect(JSON.parse(line)).toMatchObject({ type: 'image.processed', status: 'SUCCEEDED', source: { key: 'events/cat.jpg' } });
    controller.abort();
    await expect(running).resolves.toMatchObject({ exitCode: 0, received: 1 });
    expect(await eventQueues()).toEqual([]);
    const { Subscriptions } = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(Subscriptions ?? []).toEqual([]);
    watcher.context.close();
  });
});

describe('--notify targets', () => {
  it('subscribes a queue with its filter, prints the grant the queue needs, and converges', async () => {
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${stack.settings.stackName}-failures-only` }));
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes?.QueueArn ?? '';

    const first = await localTestContext({}, stack.cwd);
    const result = await executeInit(first.context, { artifacts: await testArtifacts(), notify: [{ endpoint: queueArn, filter: { status: ['FAILED'] } }] });
    expect(result.steps.find((s) => s.id === 'subscriptions')).toMatchObject({ action: 'update', status: 'applied' });
    const grant = result.steps.find((s) => s.id === 'subscriptions')?.changes.join('\n') ?? '';
    expect(grant).toContain(`"aws:SourceArn":"${topicArn}"`);
    expect(first.stderr()).toContain(`"aws:SourceArn":"${topicArn}"`);
    first.context.close();
    // The grant init printed (the queue is not the stack's, so init does not edit its policy).
    await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: queuePolicyForTopic(queueArn, topicArn) } }));

    const { Subscriptions } = await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    const subscription = Subscriptions?.find((x) => x.Endpoint === queueArn);
    const attributes = await clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription?.SubscriptionArn }));
    expect(JSON.parse(attributes.Attributes?.FilterPolicy ?? '{}')).toEqual({ status: ['FAILED'] });
    expect(attributes.Attributes?.RawMessageDelivery).toBe('true');

    const second = await localTestContext({}, stack.cwd);
    const again = await executeInit(second.context, { artifacts: await testArtifacts() });
    expect(again.upToDate).toBe(true);
    expect(second.recorder.mutating()).toEqual([]);
    second.context.close();

    // A corrupt upload fails permanently (a FAILED item, published); a good one succeeds and is filtered out.
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: 'notify/corrupt.jpg', Body: Buffer.from('not an image'), ContentType: 'image/jpeg' }));
    await upload('notify/fine.jpg');
    await poll('the fine upload processed', async () => ((await itemStatus('notify/fine.jpg')) === 'SUCCEEDED' ? true : undefined));
    const delivered = await poll('the FAILED outcome in the queue', async () => {
      const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
      return Messages?.length ? Messages : undefined;
    });
    const bodies = delivered.map((m) => JSON.parse(m.Body ?? '{}') as { status: string; source: { key: string } });
    expect(bodies.map((b) => `${b.status} ${b.source.key}`)).toEqual(['FAILED notify/corrupt.jpg']);
  });
});

describe('events the function fails on', () => {
  const keys = ['broken/one.jpg', 'broken/two.jpg'];

  it('land in the failed-events queue once retries run out, and status exits 3', async () => {
    // The cause: the destination bucket is gone, so every write of the function fails (a transient error).
    await emptyBucket(clients.s3, stack.settings.destBucket);
    await deleteBucket(clients.s3, stack.settings.destBucket);
    for (const key of keys) await upload(key);

    const listed = await poll('both failed events', async () => {
      const { failures } = await runFailuresList(stack.context);
      return failures.length === keys.length ? failures : undefined;
    });
    expect(listed.flatMap((f) => f.keys).sort()).toEqual([...keys].sort());
    for (const failure of listed) {
      expect(failure.error).toMatch(/NoSuchBucket|bucket/i);
      expect(failure.attempts).toBeGreaterThanOrEqual(1);
      expect(Number.isNaN(Date.parse(failure.failedAt ?? ''))).toBe(false);
    }

    const lister = await localTestContext({ json: true }, stack.cwd);
    await executeFailuresList(lister.context);
    expect((JSON.parse(lister.stdout()) as { failures: unknown[] }).failures).toHaveLength(2);
    lister.context.close();

    const status = await localTestContext({}, stack.cwd);
    const result = await executeStatus(status.context);
    expect(result).toMatchObject({ exitCode: 3, failedEvents: 2 });
    expect(result.links.find((l) => l.link === 'failed events')).toMatchObject({ ok: false });
    status.context.close();
  });

  it('redrive --dry-run changes nothing', async () => {
    const dry = await localTestContext({}, stack.cwd);
    const result = await executeFailuresRedrive(dry.context, { dryRun: true });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['planned', 'planned']);
    expect(dry.recorder.mutating().filter((r) => r.operation !== 'ChangeMessageVisibility' && r.operation !== 'ReceiveMessage')).toEqual([]);
    expect((await runFailuresList(stack.context)).failures).toHaveLength(2);
    dry.context.close();
  });

  it('after the cause is fixed, redrive processes them; interrupted halfway it loses nothing', async () => {
    // The fix: init makes the destination bucket again.
    const fix = await localTestContext({}, stack.cwd);
    await executeInit(fix.context, { artifacts: await testArtifacts() });
    fix.context.close();

    // Interrupted after its first event (as Ctrl-C would): the one processed is gone, the other waits still.
    const controller = new AbortController();
    const interrupted = await runFailuresRedrive(stack.context, {
      signal: controller.signal,
      onOutcome: () => {
        controller.abort();
      },
    });
    expect(interrupted).toMatchObject({ interrupted: true, exitCode: 130 });
    expect(interrupted.outcomes.map((o) => o.outcome)).toEqual(['redriven']);
    const left = (await runFailuresList(stack.context)).failures;
    expect(left).toHaveLength(1);
    expect([...left[0]?.keys ?? [], ...interrupted.outcomes.flatMap((o) => o.keys)].sort()).toEqual([...keys].sort());

    const second = await localTestContext({}, stack.cwd);
    const result = await executeFailuresRedrive(second.context, { dryRun: false });
    expect(result).toMatchObject({ exitCode: 0, interrupted: false });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['redriven']);
    expect(second.stdout()).toContain('processed, removed from the queue');
    second.context.close();

    expect((await runFailuresList(stack.context)).failures).toEqual([]);
    for (const key of keys) expect(await itemStatus(key)).toBe('SUCCEEDED');
  });
});
