/**
 * Pipeline throughput on the local stack (issue 18): a burst of uploads, direct (S3 invokes the function) and
 * via a queue (S3 notifies the stack's backfill queue, whose event source mapping feeds the function), from
 * each upload to its item; then a backfill of small objects via the queue and direct. A MiniStack of the
 * bench's own, stopped at the end. Emulator figures: MiniStack runs each invocation on this host, so they
 * compare the two paths on one machine, not what Lambda would do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { batchGetItems } from '../../src/aws/metadata-table.js';
import { getNotificationConfiguration } from '../../src/aws/s3.js';
import { localTarget } from '../../src/aws/target.js';
import { AppContext } from '../../src/context.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { quietOutput } from '../lib/quiet.js';
import { formatMs, formatNumber, median } from '../lib/stats.js';

export const THROUGHPUT = 'Pipeline throughput, local stack (MiniStack: emulator figures, function on the host node)';

/** Uploads in a burst and objects in the backfill: small enough for a few minutes on a shared two-core machine. */
function sizes(plan: Plan): { burst: number; backfill: number } {
  return plan.quick ? { burst: 40, backfill: 200 } : { burst: 200, backfill: 2_000 };
}
/** Uploads in flight at once (the upload command's own default is lower; a burst is many clients at once). */
const UPLOAD_PARALLELISM = 16;
/** Where the backfill's objects are: inside the trigger's prefix, put there before the trigger existed. */
const BACKFILL_PREFIX = 'direct/backfill/';

/** The p-th percentile (nearest rank). */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/** A 320x240 photo-like JPEG (noise, so the encoder has real work), a different one per index. */
function burstPhoto(index: number): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: index % 256, g: 128, b: 96 }, noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

function tinyPhoto(index: number): Promise<Buffer> {
  return sharp({ create: { width: 64 + (index % 32), height: 48, channels: 3, background: { r: index % 256, g: (index * 7) % 256, b: 200 } } }).jpeg().toBuffer();
}

interface Burst {
  latencies: number[];
  imagesPerSecond: number;
  wallMs: number;
  /** Uploads whose item never came (the emulator timed the function out through every retry). */
  lost: number;
}

/** A burst is over when every item is in, or nothing new arrived for this long (the rest went to the failed-events queue). */
const STALL_MS = 90_000;

export async function benchThroughput(plan: Plan, log: (line: string) => void): Promise<Figure[]> {
  const { burst, backfill } = sizes(plan);
  const burstMethod = (path: string): string =>
    `${burst} × 320x240 JPEG PutObject, ${UPLOAD_PARALLELISM} in flight, ${path}; latency = item ProcessedAt − that upload's completion (host clock); img/s = items processed ÷ (last ProcessedAt − first upload start); init defaults (thumbnail=200x200 png)`;
  const backfillMethod = `${backfill} tiny JPEGs (64-96 x 48) put before init (an adopted bucket); whole command timed until every item is SUCCEEDED`;
  const names = {
    direct: `burst of ${burst} uploads, direct (S3 → function)`,
    queue: `burst of ${burst} uploads, via queue (S3 → SQS → function)`,
    backfillDirect: `backfill of ${backfill}, direct (--concurrency 8)`,
    backfillQueue: `backfill of ${backfill}, --via queue (max concurrency 10)`,
  };
  const unavailable = (reason: string): Figure[] => [
    notAvailable(THROUGHPUT, names.direct, reason, burstMethod('S3 trigger invokes the function')),
    notAvailable(THROUGHPUT, names.queue, reason, burstMethod('S3 notifies the backfill queue, the mapping invokes the function')),
    notAvailable(THROUGHPUT, names.backfillDirect, reason, backfillMethod),
    notAvailable(THROUGHPUT, names.backfillQueue, reason, backfillMethod),
  ];
  if (!plan.e2e) return unavailable('skipped (--no-e2e)');

  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-throughput-'));
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-throughput-cwd-'));
  let context: AppContext | undefined;
  let step = 'starting the local stack';
  const onInterrupt = (): void => {
    void stopLocalStack(stateDir).finally(() => process.exit(130));
  };
  // SIGTERM too (a `timeout` around the bench): the MiniStack runs in a process group of its own.
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    log('Throughput: starting a MiniStack of the bench\'s own …');
    const stack = await startLocalStack({ stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000 });
    context = new AppContext({ yes: true }, { output: quietOutput().output, cwd, target: localTarget(stack.endpoint, {}) });
    const app = context;
    step = 'init --backfill-queue';
    const { runInit } = await import('../../src/operations/init.js');
    const { runBackfill, runQueueBackfill } = await import('../../src/commands/backfill.js');
    const { defaultBucketNames } = await import('../../src/config/settings.js');
    // The backfill's objects exist before the trigger does (init adopts the bucket), under the trigger's prefix
    // (backfill leaves keys the trigger would not fire for); queued/ is outside it, so S3 → SQS alone feeds it.
    step = `putting ${backfill} objects`;
    const preClients = await app.clients();
    const sourceBucket = defaultBucketNames('img-resizer', (await app.identity()).account, await preClients.s3.config.region()).sourceBucket;
    await preClients.s3.send(new CreateBucketCommand({ Bucket: sourceBucket }));
    const preLimit = pLimit(UPLOAD_PARALLELISM);
    await Promise.all(Array.from({ length: backfill }, (_, i) => preLimit(async () => {
      await preClients.s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: `${BACKFILL_PREFIX}${String(i).padStart(5, '0')}.jpg`, Body: await tinyPhoto(i), ContentType: 'image/jpeg' }));
    })));
    step = 'init --backfill-queue';
    const { settings } = await runInit(app, { backfillQueue: true, prefix: 'direct/', sourceBucket });
    const clients = await app.clients();
    const bucket = settings.sourceBucket;

    // S3 → SQS for queued/: the queue path of an upload, as S3 would feed a queue the stack consumes.
    step = 'queue notification';
    const queueArn = `arn:aws:sqs:${settings.region}:${(await app.identity()).account}:${settings.stackName}-backfill`;
    const current = (await getNotificationConfiguration(clients.s3, bucket)) ?? {};
    await clients.s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        ...current,
        QueueConfigurations: [{ Id: 'bench-queued', QueueArn: queueArn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'queued/' }] } } }],
      },
    }));

    const put = (key: string, body: Buffer): Promise<unknown> => clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'image/jpeg' }));
    const photos = await Promise.all(Array.from({ length: burst }, (_, i) => burstPhoto(i)));

    const runBurst = async (prefix: string): Promise<Burst> => {
      const limit = pLimit(UPLOAD_PARALLELISM);
      const uploadedAt = new Map<string, number>();
      const started = Date.now();
      await Promise.all(photos.map((body, i) => limit(async () => {
        const key = `${prefix}${String(i).padStart(4, '0')}.jpg`;
        await put(key, body);
        uploadedAt.set(key, Date.now());
      })));
      const processedAt = new Map<string, number>();
      let lastProgress = Date.now();
      while (processedAt.size < uploadedAt.size && Date.now() - lastProgress < STALL_MS) {
        const before = processedAt.size;
        const waiting = [...uploadedAt.keys()].filter((key) => !processedAt.has(key));
        const items = await batchGetItems(clients.documents, settings.table, waiting.map((key) => imageIdFor(bucket, key)), { attributes: ['ImageID', 'ProcessedAt', 'Status'] });
        for (const key of waiting) {
          const item = items.get(imageIdFor(bucket, key));
          if (item?.ProcessedAt === undefined) continue;
          if (item.Status !== 'SUCCEEDED') throw new Error(`${key}: ${item.Status}`);
          processedAt.set(key, Date.parse(item.ProcessedAt));
        }
        if (processedAt.size > before) lastProgress = Date.now();
        if (processedAt.size < uploadedAt.size) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (processedAt.size === 0) throw new Error(`${prefix}: no upload was processed`);
      const latencies = [...processedAt.entries()].map(([key, at]) => at - (uploadedAt.get(key) ?? at));
      const last = Math.max(...processedAt.values());
      return { latencies, imagesPerSecond: (processedAt.size * 1000) / (last - started), wallMs: last - started, lost: uploadedAt.size - processedAt.size };
    };

    // A warm-up of both paths, so neither burst pays the function's cold starts alone.
    step = 'warm-up';
    for (const prefix of ['direct/warm-', 'queued/warm-']) await put(`${prefix}0.jpg`, photos[0] ?? Buffer.alloc(0));
    await new Promise((resolve) => setTimeout(resolve, 5_000));

    step = 'queued burst';
    const queued = await runBurst('queued/burst/');
    log(`Throughput: queued burst: median ${formatMs(median(queued.latencies))}, p95 ${formatMs(percentile(queued.latencies, 95))}, ${formatNumber(queued.imagesPerSecond)} img/s, ${queued.lost} lost`);

    // Via the queue first, then direct with --force: the same objects, both timed to the last SUCCEEDED item.
    step = 'backfill via queue';
    const t1 = performance.now();
    const queueRun = await runQueueBackfill(app, { prefix: BACKFILL_PREFIX, pollIntervalMs: 250 });
    const queueMs = performance.now() - t1;
    if (queueRun.report.succeeded !== backfill) throw new Error(`queue backfill: ${queueRun.report.succeeded}/${backfill} succeeded`);
    log(`Throughput: backfill via queue: ${backfill} in ${formatMs(queueMs)}`);
    step = 'backfill direct';
    const t0 = performance.now();
    const directRun = await runBackfill(app, { prefix: BACKFILL_PREFIX, force: true, concurrency: 8 });
    const directMs = performance.now() - t0;
    if (directRun.report.succeeded !== backfill) throw new Error(`direct backfill: ${directRun.report.succeeded}/${backfill} succeeded`);
    log(`Throughput: backfill direct: ${backfill} in ${formatMs(directMs)}`);

    // Last: on the emulator, S3's async invocations of a burst are not queued as Lambda queues them, and their
    // retries would otherwise still be running during the other measurements.
    step = 'direct burst';
    const direct = await runBurst('direct/burst/');
    log(`Throughput: direct burst: median ${formatMs(median(direct.latencies))}, p95 ${formatMs(percentile(direct.latencies, 95))}, ${formatNumber(direct.imagesPerSecond)} img/s, ${direct.lost} lost`);

    const burstResult = (b: Burst, other?: Burst): string =>
      `median ${formatMs(median(b.latencies))}, p95 ${formatMs(percentile(b.latencies, 95))}, ${formatNumber(b.imagesPerSecond)} img/s` +
      (b.lost > 0 ? `, ${b.lost} of ${burst} lost (timed out through every retry)` : '') +
      (other ? ` · ${(b.imagesPerSecond / other.imagesPerSecond).toFixed(2)}× direct img/s` : '');
    return [
      figure(THROUGHPUT, names.direct, { result: burstResult(direct), value: direct.imagesPerSecond, unit: 'img/s', method: burstMethod('S3 trigger invokes the function (async)') }),
      figure(THROUGHPUT, names.queue, {
        result: burstResult(queued, direct),
        value: queued.imagesPerSecond,
        unit: 'img/s',
        method: burstMethod('S3 notifies the backfill queue, the mapping invokes the function, batches of 5'),
      }),
      figure(THROUGHPUT, names.backfillDirect, {
        result: `${formatNumber((backfill * 1000) / directMs)} obj/s (${formatMs(directMs)})`,
        value: (backfill * 1000) / directMs,
        unit: 'objects/s',
        method: `${backfillMethod}; runBackfill(): list, batch-check, 8 synchronous invokes at a time`,
      }),
      figure(THROUGHPUT, names.backfillQueue, {
        result: `${formatNumber((backfill * 1000) / queueMs)} obj/s (${formatMs(queueMs)}) · ${(directMs / queueMs).toFixed(2)}× direct's rate`,
        value: (backfill * 1000) / queueMs,
        unit: 'objects/s',
        method: `${backfillMethod}; runQueueBackfill(): list, batch-check, SendMessageBatch ×10, 4 calls in flight, then follow the table`,
      }),
    ];
  } catch (error) {
    const reason = `${step}: ${oneLine((error as Error).message, 120)}`;
    log(`Throughput failed at ${reason}`);
    return unavailable(reason);
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    context?.close();
    await stopLocalStack(stateDir).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }
}
