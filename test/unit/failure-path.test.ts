import { describe, expect, it } from 'vitest';
import { resolveInitSettings } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';
import { eventLine, parseEvent, queuePolicyForTopic } from '../../src/operations/events.js';
import { describeFailure } from '../../src/operations/failures.js';
import { planAsyncInvoke } from '../../src/provision/async-invoke.js';
import { planFailedEventsQueue, queueDepth } from '../../src/provision/failed-events-queue.js';
import { planLogGroup } from '../../src/provision/log-group.js';
import { stackModel } from '../../src/provision/stack.js';
import { planTableRecovery } from '../../src/provision/table-recovery.js';
import { planTopic } from '../../src/provision/topic.js';

const located = () => Promise.resolve({ account: '123456789012', region: 'eu-west-1' });
const resolve = (flags: Parameters<typeof resolveInitSettings>[0]['flags'], env: NodeJS.ProcessEnv = {}) => resolveInitSettings({ flags, env, file: undefined, locate: located });

describe('failure-path settings', () => {
  it('read flags, then IMG_RESIZER_* variables', async () => {
    const { settings, sources } = await resolve(
      { logRetentionDays: 7 },
      { IMG_RESIZER_NOTIFICATIONS: 'false', IMG_RESIZER_PITR: 'off', IMG_RESIZER_RETRY_ATTEMPTS: '0', IMG_RESIZER_MAX_EVENT_AGE: '60', IMG_RESIZER_KEEP_ON_DELETE: 'true', IMG_RESIZER_LOG_RETENTION: '90' },
    );
    expect(settings).toMatchObject({ notifications: false, pointInTimeRecovery: false, retryAttempts: 0, maxEventAgeSeconds: 60, keepOnDelete: true, logRetentionDays: 7 });
    expect(sources).toMatchObject({ logRetentionDays: 'flag', notifications: 'env' });
  });

  it('refuse values AWS would refuse, before any AWS call', async () => {
    await expect(resolve({ logRetentionDays: 31 })).rejects.toThrow(/--log-retention: "31" is not a number of days CloudWatch Logs offers/);
    await expect(resolve({ retryAttempts: 3 })).rejects.toThrow(UsageError);
    await expect(resolve({ maxEventAgeSeconds: 59 })).rejects.toThrow(/from 60 to 21600/);
    await expect(resolve({}, { IMG_RESIZER_PITR: 'maybe' })).rejects.toThrow(/IMG_RESIZER_PITR/);
  });
});

describe('the stack model', () => {
  it('grants sns:Publish on the topic and sqs:SendMessage on the queue only, and hands the topic to the function', async () => {
    const { settings } = await resolve({ stackName: 'pics' });
    const stack = stackModel(settings, { account: '123456789012', partition: 'aws' }, 'eu-west-1');
    const statements = (stack.functionPolicy as { Statement: { Sid: string; Action: string[]; Resource: string[] }[] }).Statement;
    expect(statements.find((s) => s.Sid === 'PublishOutcomes')).toMatchObject({ Action: ['sns:Publish'], Resource: ['arn:aws:sns:eu-west-1:123456789012:pics-outcomes'] });
    expect(statements.find((s) => s.Sid === 'SendFailedEvents')).toMatchObject({ Action: ['sqs:SendMessage'], Resource: ['arn:aws:sqs:eu-west-1:123456789012:pics-failed-events'] });
    expect(statements.find((s) => s.Sid === 'RemoveResizedObjects')?.Resource).toEqual([`arn:aws:s3:::${settings.destBucket}/resized-*`, `arn:aws:s3:::${settings.destBucket}/resized/*`]);
    expect(stack.environment.NOTIFY_TOPIC_ARN).toBe('arn:aws:sns:eu-west-1:123456789012:pics-outcomes');
    expect(stack.logGroupName).toBe('/aws/lambda/pics-resize');
  });

  it('without notifications and with keep-on-delete, neither publish nor delete is granted', async () => {
    const { settings } = await resolve({ stackName: 'pics', notifications: false, keepOnDelete: true });
    const stack = stackModel(settings, { account: '123456789012', partition: 'aws' }, 'eu-west-1');
    const text = JSON.stringify(stack.functionPolicy);
    expect(text).not.toContain('sns:Publish');
    expect(text).not.toContain('s3:DeleteObject');
    expect(stack.environment.NOTIFY_TOPIC_ARN).toBeUndefined();
    expect(stack.environment.KEEP_ON_DELETE).toBe('true');
  });
});

describe('plans', () => {
  it('topic: create encrypted, fix the key, delete when notifications are turned off', () => {
    expect(planTopic(true, undefined)).toMatchObject({ action: 'create', ops: [{ kind: 'create-topic', kmsKey: 'alias/aws/sns' }] });
    expect(planTopic(true, { KmsMasterKeyId: 'alias/aws/sns' }).action).toBe('no-op');
    expect(planTopic(true, {})).toMatchObject({ action: 'update', ops: [{ kind: 'encrypt-topic', from: undefined, to: 'alias/aws/sns' }] });
    expect(planTopic(false, { KmsMasterKeyId: 'alias/aws/sns' })).toMatchObject({ action: 'delete', ops: [{ kind: 'delete-topic', reason: 'notifications-off' }] });
    expect(planTopic(false, undefined).action).toBe('no-op');
  });

  it('failed-events queue: SSE-SQS and 14 days, a KMS-encrypted queue left encrypted', () => {
    expect(planFailedEventsQueue(undefined)).toMatchObject({ action: 'create', ops: [{ kind: 'create-queue', retentionSeconds: 1_209_600 }] });
    const current = { url: 'u', attributes: { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '1209600', ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '1' } };
    expect(planFailedEventsQueue(current).action).toBe('no-op');
    expect(queueDepth(current)).toBe(3);
    expect(planFailedEventsQueue({ url: 'u', attributes: { MessageRetentionPeriod: '345600', SqsManagedSseEnabled: 'false' } })).toMatchObject({
      action: 'update',
      ops: [{ kind: 'set-queue-attributes', changes: [{ name: 'SqsManagedSseEnabled', from: 'false', to: 'true' }, { name: 'MessageRetentionPeriod', from: '345600', to: '1209600' }] }],
    });
    expect(planFailedEventsQueue({ url: 'u', attributes: { KmsMasterKeyId: 'alias/mine', MessageRetentionPeriod: '1209600' } }).action).toBe('no-op');
  });

  it('log group: created with retention, retention converged', () => {
    expect(planLogGroup(30, undefined)).toMatchObject({ action: 'create', ops: [{ kind: 'create-log-group', retentionDays: 30 }] });
    expect(planLogGroup(30, { logGroupName: 'g' })).toMatchObject({ ops: [{ kind: 'set-log-retention', from: undefined, to: 30 }] });
    expect(planLogGroup(30, { logGroupName: 'g', retentionInDays: 30 }).action).toBe('no-op');
  });

  it('async invoke: retries, age and the on-failure destination', () => {
    const desired = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, onFailureArn: 'arn:q' };
    expect(planAsyncInvoke(desired, undefined)).toMatchObject({ action: 'create', ops: [{ kind: 'put-async-invoke-config', ...desired }] });
    expect(planAsyncInvoke(desired, { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600, DestinationConfig: { OnFailure: { Destination: 'arn:q' } } }).action).toBe('no-op');
    expect(planAsyncInvoke(desired, { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 21_600 })).toMatchObject({
      ops: [{ kind: 'update-async-invoke-config', changes: [{ field: 'retries', from: '0', to: '2' }, { field: 'on failure', from: 'none', to: 'arn:q' }] }],
    });
  });

  it('table recovery: on by default, off with --no-pitr', () => {
    expect(planTableRecovery(true, false)).toMatchObject({ action: 'update', ops: [{ enabled: true }] });
    expect(planTableRecovery(true, true).action).toBe('no-op');
    expect(planTableRecovery(false, true)).toMatchObject({ ops: [{ enabled: false }] });
    expect(planTableRecovery(true, undefined).action).toBe('create');
  });
});

describe('events and failures', () => {
  it('the temporary queue accepts the stack topic only', () => {
    const policy = JSON.parse(queuePolicyForTopic('arn:aws:sqs:r:1:q', 'arn:aws:sns:r:1:t')) as { Statement: unknown[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:r:1:q', Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:sns:r:1:t' } } }),
    ]);
  });

  it('prints a notification as one line, and anything else as it came', () => {
    const event = parseEvent(JSON.stringify({ type: 'image.failed', imageId: 's3://b/k.jpg', status: 'FAILED', errorCode: 'CORRUPT_IMAGE', errorMessage: 'bad', outputs: [], time: '2026-01-01T00:00:00.000Z' }));
    expect(eventLine(event)).toBe('2026-01-01T00:00:00.000Z  image.failed     s3://b/k.jpg  CORRUPT_IMAGE: bad');
    expect(parseEvent('hello')).toEqual({ kind: 'other', body: 'hello' });
  });

  it('reads key, error, attempts and time from a Lambda on-failure record', () => {
    const body = JSON.stringify({
      version: '1.0',
      timestamp: '2026-11-29T06:00:00.000Z',
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { Records: [{ s3: { bucket: { name: 'b' }, object: { key: 'my+photos/cat%281%29.jpg' } } }] },
      responsePayload: { errorType: 'NoSuchBucket', errorMessage: 'The specified bucket does not exist' },
    });
    expect(describeFailure({ MessageId: 'm1', Body: body })).toEqual({
      messageId: 'm1',
      keys: ['my photos/cat(1).jpg'],
      error: 'NoSuchBucket: The specified bucket does not exist',
      attempts: 3,
      failedAt: '2026-11-29T06:00:00.000Z',
    });
    expect(describeFailure({ MessageId: 'm2', Body: '{}', Attributes: { SentTimestamp: '1795935255000' } })).toMatchObject({ error: 'unknown', failedAt: new Date(1_795_935_255_000).toISOString() });
  });

  it("describes EventBridge's dead letter (workflow mode: the execution could not be started)", () => {
    // The body is the original "Object Created" event; the reason is in message attributes (eb-rule-dlq.html).
    const event = { version: '0', 'detail-type': 'Object Created', source: 'aws.s3', detail: { bucket: { name: 'uploads' }, object: { key: 'in/my cat.jpg', size: 10 } } };
    const text = (StringValue: string) => ({ DataType: 'String', StringValue });
    const message = {
      MessageId: 'm3',
      Body: JSON.stringify(event),
      Attributes: { SentTimestamp: '1795935255000' },
      MessageAttributes: {
        ERROR_CODE: text('SDK_CLIENT_ERROR'),
        ERROR_MESSAGE: text('State machine does not exist'),
        EXHAUSTED_RETRY_CONDITION: text('MaximumRetryAttempts'),
        RETRY_ATTEMPTS: text('185'),
        RULE_ARN: text('arn:aws:events:eu-west-1:123456789012:rule/demo-uploads'),
        TARGET_ARN: text('arn:aws:states:eu-west-1:123456789012:stateMachine:demo-workflow'),
      },
    };
    expect(describeFailure(message)).toEqual({
      messageId: 'm3',
      keys: ['in/my cat.jpg'],
      error: 'EventBridge could not start the workflow: SDK_CLIENT_ERROR: State machine does not exist (MaximumRetryAttempts)',
      attempts: 186,
      failedAt: new Date(1_795_935_255_000).toISOString(),
    });
  });
});
