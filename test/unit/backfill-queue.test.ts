import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { sendMessageBatchWithRetries } from '../../src/aws/sqs.js';
import { initOptionsFrom } from '../../src/commands/init.js';
import { resolveInitSettings, type StackSettings } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';
import { BackfillJournal } from '../../src/operations/backfill-journal.js';
import { desiredBackfillQueueAttributes, planBackfillQueue, planQueueMapping, type QueueMappingOp } from '../../src/provision/backfill-queue.js';
import { stackModel } from '../../src/provision/stack.js';
import { provisionSteps, removalSteps } from '../../src/provision/steps.js';

const base = { locate: () => Promise.resolve({ account: '123456789012', region: 'us-east-1' }), env: {}, file: undefined };
const IDENTITY = { account: '123456789012', partition: 'aws' };

async function settingsWith(flags: Parameters<typeof resolveInitSettings>[0]['flags'], env: Record<string, string> = {}): Promise<StackSettings> {
  return (await resolveInitSettings({ ...base, env, flags })).settings;
}

interface Statement { Sid: string; Action: string[]; Resource: string[] }
const statements = (policy: unknown): Statement[] => (policy as { Statement: Statement[] }).Statement;

describe('init --backfill-queue settings', () => {
  it('off unless asked: nothing in the settings file, no SQS read grant, no queue step', async () => {
    const settings = await settingsWith({});
    expect(settings).not.toHaveProperty('backfillQueue');
    const model = stackModel(settings, IDENTITY, 'us-east-1');
    expect(statements(model.functionPolicy).find((s) => s.Sid === 'ConsumeBackfillQueue')).toBeUndefined();
    expect(provisionSteps(settings).map((s) => s.id)).not.toContain('backfill-queue');
    expect(removalSteps(settings, { keepBuckets: false }).map((s) => s.id)).not.toContain('backfill-queue');
  });

  it('on: the role may receive, delete and read the attributes of that queue only; the mapping comes after the function', async () => {
    const settings = await settingsWith(initOptionsFrom({ backfillQueue: true, queueMaxConcurrency: 25 }));
    expect(settings).toMatchObject({ backfillQueue: true, queueMaxConcurrency: 25 });
    const model = stackModel(settings, IDENTITY, 'us-east-1');
    expect(statements(model.functionPolicy).filter((s) => s.Sid === 'ConsumeBackfillQueue')).toEqual([
      {
        Sid: 'ConsumeBackfillQueue',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: ['arn:aws:sqs:us-east-1:123456789012:img-resizer-backfill'],
      },
    ]);
    const ids = provisionSteps(settings).map((s) => s.id);
    expect(ids.indexOf('backfill-queue')).toBeGreaterThan(ids.indexOf('failed-events-queue'));
    expect(ids.indexOf('backfill-queue-mapping')).toBeGreaterThan(ids.indexOf('function'));
    const removal = removalSteps(settings, { keepBuckets: false }).map((s) => s.id);
    expect(removal.indexOf('backfill-queue-mapping')).toBeLessThan(removal.indexOf('function'));
    expect(removal.indexOf('backfill-queue')).toBeLessThan(removal.indexOf('failed-events-queue'));
  });

  it('--no-backfill-queue removes the mapping, then the queue; the environment variables work too', async () => {
    const off = await settingsWith(initOptionsFrom({ backfillQueue: false }));
    expect(off.backfillQueue).toBe(false);
    const ids = provisionSteps(off).map((s) => s.id);
    expect(ids.filter((id) => id.startsWith('backfill-queue'))).toEqual(['backfill-queue-mapping', 'backfill-queue']);
    const fromEnv = await settingsWith({}, { IMG_RESIZER_BACKFILL_QUEUE: 'on', IMG_RESIZER_QUEUE_MAX_CONCURRENCY: '3' });
    expect(fromEnv).toMatchObject({ backfillQueue: true, queueMaxConcurrency: 3 });
  });

  it('refuses a maximum concurrency Lambda refuses (2 to 1000)', async () => {
    await expect(settingsWith({ backfillQueue: true, queueMaxConcurrency: 1 })).rejects.toThrow(UsageError);
    await expect(settingsWith({ backfillQueue: true, queueMaxConcurrency: 1001 })).rejects.toThrow(/2 to 1000/);
  });
});

describe('backfill queue plans', () => {
  const desired = desiredBackfillQueueAttributes({ settings: { timeout: 60 } as StackSettings, failedEventsQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:s-failed-events' });

  it('creates the queue with a visibility timeout six times the function timeout and a redrive after 3 receives', () => {
    expect(desired).toMatchObject({ SqsManagedSseEnabled: 'true', VisibilityTimeout: '360' });
    expect(JSON.parse(desired.RedrivePolicy ?? '')).toEqual({ deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:123456789012:s-failed-events', maxReceiveCount: 3 });
    expect(planBackfillQueue(desired, undefined)).toMatchObject({ action: 'create', ops: [{ kind: 'create-backfill-queue', visibilitySeconds: 360, maxReceiveCount: 3 }] });
  });

  it('reads the redrive policy as JSON (SQS may return the count as a string) and updates only what differs', () => {
    const observed = { ...desired, RedrivePolicy: '{"maxReceiveCount":"3","deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:s-failed-events"}' };
    expect(planBackfillQueue(desired, { url: 'u', attributes: observed }).action).toBe('no-op');
    const plan = planBackfillQueue(desired, { url: 'u', attributes: { ...observed, VisibilityTimeout: '30' } });
    expect(plan).toMatchObject({ action: 'update', ops: [{ kind: 'set-backfill-queue-attributes', changes: [{ name: 'VisibilityTimeout', from: '30', to: '360' }] }] });
  });

  it('creates, converges and de-duplicates the mapping', () => {
    const spec = { functionName: 'f', queueArn: 'q', batchSize: 5, maximumConcurrency: 10, reportBatchItemFailures: true };
    expect(planQueueMapping(spec, [])).toMatchObject({ action: 'create', ops: [{ kind: 'create-queue-mapping', batchSize: 5, maximumConcurrency: 10 }] });
    const same = { UUID: 'a', BatchSize: 5, ScalingConfig: { MaximumConcurrency: 10 }, FunctionResponseTypes: ['ReportBatchItemFailures' as const], State: 'Enabled' };
    expect(planQueueMapping(spec, [same]).action).toBe('no-op');
    const plan = planQueueMapping(spec, [{ ...same, ScalingConfig: undefined, FunctionResponseTypes: [] }, { UUID: 'b' }]);
    expect(plan.ops as QueueMappingOp[]).toEqual([
      {
        kind: 'update-queue-mapping',
        uuid: 'a',
        changes: [
          { field: 'maximum concurrency', from: 'none', to: '10' },
          { field: 'response types', from: 'none', to: 'ReportBatchItemFailures' },
        ],
      },
      { kind: 'delete-extra-queue-mapping', uuid: 'b' },
    ]);
  });
});

describe('the backfill journal', () => {
  it('knows what was sent and what was only about to be sent, per ETag, across a cut-off last line', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'journal-'));
    const file = path.join(dir, 'sub', 'j.journal');
    const first = BackfillJournal.open(file);
    first.intent([{ key: 'a.jpg', eTag: 'e1' }, { key: 'tab\there\nnewline.jpg', eTag: 'e2' }, { key: 'c.jpg', eTag: 'e3' }]);
    first.sent([{ key: 'a.jpg', eTag: 'e1' }, { key: 'tab\there\nnewline.jpg', eTag: 'e2' }]);
    first.refused([{ key: 'c.jpg', eTag: 'e3' }]);
    first.intent([{ key: 'd.jpg', eTag: 'e4' }]);
    // A kill in the middle of writing a line.
    appendFileSync(file, 'S\te4\t"d.j');

    const again = BackfillJournal.open(file);
    expect(again.stateOf({ key: 'a.jpg', eTag: 'e1' })).toBe('sent');
    expect(again.stateOf({ key: 'tab\there\nnewline.jpg', eTag: 'e2' })).toBe('sent');
    expect(again.stateOf({ key: 'a.jpg', eTag: 'newer' })).toBeUndefined();
    expect(again.stateOf({ key: 'c.jpg', eTag: 'e3' })).toBeUndefined();
    expect(again.stateOf({ key: 'd.jpg', eTag: 'e4' })).toBe('intent');
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(8);

    expect(BackfillJournal.open(file, { reset: true }).size).toBe(0);
    expect(BackfillJournal.open(file).size).toBe(0);
  });
});

// Mocked because MiniStack never fails part of a SendMessageBatch call; SQS does (throttling, internal errors).
describe('sendMessageBatchWithRetries', () => {
  const sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const sqsMock = mockClient(sqs);
  afterEach(() => {
    sqsMock.reset();
  });

  it('retries only the entries SQS failed without blaming the sender, and gives up on sender faults at once', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
        Failed: [
          { Id: '1', SenderFault: false, Code: 'InternalError', Message: 'try again' },
          { Id: '2', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad body' },
        ],
      })
      .resolvesOnce({ Successful: [{ Id: '1', MessageId: 'm1', MD5OfMessageBody: '' }], Failed: [] });
    const sent: string[][] = [];
    const sleeps: number[] = [];
    const refused = await sendMessageBatchWithRetries(sqs, 'url', ['0', '1', '2'].map((id) => ({ id, body: `{"n":${id}}` })), {
      sleep: (ms) => { sleeps.push(ms); return Promise.resolve(); },
      onSent: (ids) => { sent.push(ids); },
    });
    expect(refused).toEqual([{ id: '2', message: 'InvalidMessageContents: bad body' }]);
    expect(sent).toEqual([['0'], ['1']]);
    expect(sleeps).toHaveLength(1);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.map((e) => e.Id));
    expect(calls).toEqual([['0', '1', '2'], ['1']]);
  });

  it('stops after the last attempt and reports what never got in', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: 'a', SenderFault: false, Code: 'ServiceUnavailable', Message: 'busy' }] });
    const refused = await sendMessageBatchWithRetries(sqs, 'url', [{ id: 'a', body: '{}' }], { attempts: 3, sleep: () => Promise.resolve() });
    expect(refused).toEqual([{ id: 'a', message: 'ServiceUnavailable: busy' }]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });
});
