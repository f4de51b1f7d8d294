import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { GetEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { runQueueBackfill } from '../../src/commands/backfill.js';
import { executeDestroy } from '../../src/commands/destroy.js';
import { executeStatus } from '../../src/commands/status.js';
import { listQueueMappings } from '../../src/aws/event-source-mapping.js';
import { getRolePolicy } from '../../src/aws/iam.js';
import { ExitCode } from '../../src/errors.js';
import { journalPath } from '../../src/operations/backfill-journal.js';
import { INLINE_POLICY_NAME } from '../../src/provision/stack.js';
import { DEFAULT_SETTINGS_FILE } from '../../src/config/settings.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, uniqueStackName, type DeployedTestStack } from '../helpers/deploy.js';
import { poll } from '../helpers/poll.js';

const COUNT = 500;
/** Short, so a poison message is received three times (visibility 6 x 5 s) within the test's time. */
const FUNCTION_TIMEOUT_S = 5;
const tsx = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
const entry = path.resolve('test/helpers/run-cli.ts');

const keyOf = (i: number): string => `photos/${i % 7 === 0 ? `sub ${i % 3}/` : ''}img-${String(i).padStart(4, '0')}.jpg`;
const keys = Array.from({ length: COUNT }, (_, i) => keyOf(i));
/** An archived object (GLACIER): S3 refuses GetObject until it is restored, so every attempt fails transiently. */
const POISON_KEY = 'archive/poison.jpg';

let stack: DeployedTestStack;

async function scanAll(): Promise<MetadataItem[]> {
  const clients = await stack.context.clients();
  const items: MetadataItem[] = [];
  for await (const page of paginateScan({ client: clients.documents }, { TableName: stack.settings.table })) items.push(...((page.Items ?? []) as MetadataItem[]));
  return items;
}

/** The function's own log lines (one JSON object each) from its log group, as the local stack records them. */
async function functionLogLines(): Promise<Record<string, unknown>[]> {
  const clients = await stack.context.clients();
  const lines: Record<string, unknown>[] = [];
  for await (const page of paginateFilterLogEvents({ client: clients.logs }, { logGroupName: `/aws/lambda/${stack.settings.functionName}` })) {
    for (const event of page.events ?? []) {
      for (const text of (event.message ?? '').split('\n')) {
        const start = text.indexOf('{"level"');
        if (start < 0) continue;
        try {
          lines.push(JSON.parse(text.slice(start)) as Record<string, unknown>);
        } catch {
          // A platform line, or one the runtime wrapped: not the handler's.
        }
      }
    }
  }
  return lines;
}

async function queueUrl(name: string): Promise<string> {
  const clients = await stack.context.clients();
  return (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
}

beforeAll(async () => {
  // The objects exist before the trigger does (an adopted bucket): only a backfill processes them.
  const setup = await localTestContext();
  const s3 = (await setup.context.clients()).s3;
  const sourceBucket = `${uniqueStackName('bq')}-source`;
  await s3.send(new CreateBucketCommand({ Bucket: sourceBucket }));
  const limit = pLimit(16);
  await Promise.all(
    keys.map((key, i) =>
      limit(async () => {
        const body = await sharp({ create: { width: 48 + (i % 40), height: 36, channels: 3, background: { r: (i * 37) % 256, g: (i * 11) % 256, b: 160 } } })
          .jpeg()
          .toBuffer();
        await s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: key, Body: body, ContentType: 'image/jpeg' }));
      }),
    ),
  );
  const poison = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toBuffer();
  await s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: POISON_KEY, Body: poison, StorageClass: 'GLACIER' }));
  setup.context.close();
  stack = await deployTestStack({ sourceBucket, backfillQueue: true, queueMaxConcurrency: 4, timeout: FUNCTION_TIMEOUT_S });
}, 600_000);

afterAll(() => {
  stack.context.close();
});

describe('the backfill queue on the local stack', () => {
  it('is provisioned as asked: encrypted, visibility 6x the timeout, redrive after 3 receives, a mapping with partial failures, the role reads it', async () => {
    const clients = await stack.context.clients();
    const url = await queueUrl(`${stack.settings.stackName}-backfill`);
    const { Attributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(Attributes.SqsManagedSseEnabled).toBe('true');
    expect(Attributes.VisibilityTimeout).toBe(String(6 * FUNCTION_TIMEOUT_S));
    const redrive = JSON.parse(Attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn: string; maxReceiveCount: number | string };
    expect(redrive.deadLetterTargetArn).toMatch(new RegExp(`:${stack.settings.stackName}-failed-events$`));
    expect(Number(redrive.maxReceiveCount)).toBe(3);

    const [mapping, ...others] = await listQueueMappings(clients.lambda, stack.settings.functionName, Attributes.QueueArn ?? '');
    expect(others).toEqual([]);
    const read = await clients.lambda.send(new GetEventSourceMappingCommand({ UUID: mapping?.UUID }));
    expect(read).toMatchObject({ BatchSize: 5, ScalingConfig: { MaximumConcurrency: 4 }, FunctionResponseTypes: ['ReportBatchItemFailures'] });

    const document = JSON.parse(decodeURIComponent((await getRolePolicy(clients.iam, stack.settings.roleName, INLINE_POLICY_NAME)) ?? '{}')) as {
      Statement: { Sid: string; Action: string[]; Resource: string[] }[];
    };
    const consume = document.Statement.filter((s) => s.Resource.includes(Attributes.QueueArn ?? ''));
    expect(consume).toEqual([{ Sid: 'ConsumeBackfillQueue', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: [Attributes.QueueArn] }]);

    const status = await localTestContext({}, stack.cwd);
    expect((await executeStatus(status.context)).exitCode).toBe(ExitCode.Ok);
    expect(status.stdout() + status.stderr()).toContain('Backfill queue');
    status.context.close();
  });

  it('says how to add the queue when the stack has none', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-noqueue-'));
    const settings = JSON.parse(readFileSync(path.join(stack.cwd, DEFAULT_SETTINGS_FILE), 'utf8')) as Record<string, unknown>;
    delete settings.backfillQueue;
    await writeFile(path.join(cwd, DEFAULT_SETTINGS_FILE), JSON.stringify(settings));
    const other = await localTestContext({}, cwd);
    const error = await runQueueBackfill(other.context, {}).then(() => undefined, (e: unknown) => e as { code?: string; suggestion?: string });
    expect(error?.code).toBe('BACKFILL_QUEUE_MISSING');
    expect(error?.suggestion).toContain('init --backfill-queue');
    other.context.close();
  });

  it(`processes ${COUNT} objects exactly once, also when killed halfway (SIGKILL) and run again`, async () => {
    const journal = journalPath(path.join(stack.cwd, DEFAULT_SETTINGS_FILE), stack.settings.stackName);
    const sentLines = (): string[] => (existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l.startsWith('S\t')) : []);

    // The CLI as an operator runs it, small listing pages so it is still enqueuing when killed.
    const args = ['--import', tsx, entry, 'backfill', '--via', 'queue', '--prefix', 'photos/', '--page-size', '5', '--endpoint-url', inject('ministackEndpoint')];
    const child = spawn(process.execPath, args, {
      cwd: stack.cwd,
      env: { ...process.env, CI: 'true', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => { resolve(signal); }));
    const deadline = Date.now() + 120_000;
    while (sentLines().length < COUNT / 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const sentAtKill = sentLines().length;
    expect(sentAtKill).toBeGreaterThanOrEqual(COUNT / 4);
    expect(sentAtKill).toBeLessThan(COUNT);

    // As if the kill had also struck between SQS accepting a batch and the journal recording it: five objects
    // in the queue (or processed) whose journal says only "about to send". The rerun must not send them again.
    const lines = readFileSync(journal, 'utf8').split('\n');
    const dropped = new Set(lines.filter((l) => l.startsWith('S\t')).slice(0, 5));
    writeFileSync(journal, lines.filter((l) => !dropped.has(l)).join('\n'));
    // Uncertain on the rerun: those five, plus any batch the kill caught between its intent line and SQS's answer
    // (on a quiet, fast host the kill often lands mid-send). Read as the journal reads itself: the last mark of
    // a key counts, a line the kill cut short is ignored.
    const lastMark = new Map<string, string>();
    for (const line of readFileSync(journal, 'utf8').split('\n')) {
      const [mark, eTag, quoted] = line.split('\t');
      let key: unknown;
      try {
        key = quoted === undefined ? undefined : JSON.parse(quoted);
      } catch {
        key = undefined;
      }
      if (eTag === undefined || typeof key !== 'string' || mark === undefined) continue;
      if (mark === 'X') lastMark.delete(key);
      else lastMark.set(key, mark);
    }
    const intentOnly = [...lastMark.values()].filter((mark) => mark === 'I').length;
    expect(intentOnly).toBeGreaterThanOrEqual(5);

    const rerun = await localTestContext({}, stack.cwd);
    const { exitCode, report } = await runQueueBackfill(rerun.context, { prefix: 'photos/', pollIntervalMs: 500 });
    rerun.context.close();
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report.uncertain).toBe(intentOnly);
    expect(report.enqueued + report.alreadyQueued + report.skipped).toBe(COUNT);
    expect(report.notProcessed).toEqual([]);
    // Done: the journal goes, and a third run enqueues nothing.
    expect(existsSync(journal)).toBe(false);

    const items = (await scanAll()).filter((i) => i.OriginalFile.startsWith('photos/'));
    expect(items).toHaveLength(COUNT);
    expect(items.filter((i) => i.Status !== 'SUCCEEDED')).toEqual([]);

    // Exactly once: the function logged one "record succeeded" per key, and no key twice.
    const processedKeys = (await functionLogLines()).filter((l) => l.message === 'record succeeded').map((l) => String(l.key));
    const perKey = new Map<string, number>();
    for (const key of processedKeys) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    expect([...perKey.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(new Set(perKey.keys())).toEqual(new Set(keys));

    const again = await localTestContext({}, stack.cwd);
    const third = await runQueueBackfill(again.context, { prefix: 'photos/', pollIntervalMs: 500 });
    again.context.close();
    expect(third.report).toMatchObject({ enqueued: 0, alreadyQueued: 0, skipped: COUNT });
  }, 600_000);

  it('a poison object (archived: every read fails) is retried, then lands in the dead-letter queue after 3 receives', async () => {
    const run = await localTestContext({}, stack.cwd);
    const { exitCode, report } = await runQueueBackfill(run.context, { prefix: 'archive/', pollIntervalMs: 500 });
    run.context.close();
    // The function records why (best effort) and throws, so the message comes back rather than being deleted.
    expect(exitCode).toBe(ExitCode.Failed);
    expect(report.enqueued).toBe(1);
    expect(report.failed).toMatchObject([{ key: POISON_KEY, errorCode: 'ACCESS_DENIED' }]);

    const clients = await stack.context.clients();
    const deadLetters = await queueUrl(`${stack.settings.stackName}-failed-events`);
    const message = await poll('the poison message in the dead-letter queue', async () => {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: deadLetters, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      );
      return Messages.find((m) => m.Body?.includes('archive/poison.jpg'));
    }, 240_000);
    expect(Number(message.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(3);
    const backfillQueue = await queueUrl(`${stack.settings.stackName}-backfill`);
    const { Attributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: backfillQueue, AttributeNames: ['All'] }));
    expect([Attributes.ApproximateNumberOfMessages, Attributes.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
    const attempts = (await functionLogLines()).filter((l) => l.message === 'record error; its event will be delivered again' && l.key === POISON_KEY);
    expect(attempts).toHaveLength(3);
  }, 600_000);

  it('destroy removes the mapping, then the queue', async () => {
    const run = await localTestContext({}, stack.cwd);
    const result = await executeDestroy(run.context, {});
    expect(result.exitCode).toBe(ExitCode.Ok);
    const ids = result.steps.map((s) => s.id);
    expect(ids.indexOf('backfill-queue-mapping')).toBeLessThan(ids.indexOf('function'));
    expect(result.steps.find((s) => s.id === 'backfill-queue')?.status).toBe('applied');
    expect(result.steps.find((s) => s.id === 'backfill-queue-mapping')?.status).toBe('applied');
    run.context.close();
  });
});
