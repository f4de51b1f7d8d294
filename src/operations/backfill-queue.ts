import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { batchGetItems } from '../aws/metadata-table.js';
import { listObjectPages, type ListedObject } from '../aws/objects.js';
import { getQueueAttributes, getQueueUrl, sendMessageBatchWithRetries, type BatchEntry } from '../aws/sqs.js';
import { loadStackSettings, type StackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { formatFailure } from '../ui/format.js';
import { BACKFILL_PRINCIPAL, dispositionOf, type BackfillFailure, type KnownItem } from './backfill.js';
import { backfillPages } from './backfill-pages.js';
import { BackfillJournal, journalPath, type JournalEntry } from './backfill-journal.js';
import { synthesizeS3Event } from './s3-event.js';
import { explainMissing } from './stack-errors.js';
import { systemClock, type Clock } from './wait-for-items.js';

/** SendMessageBatch takes at most ten messages. */
const BATCH_LIMIT = 10;
/** SendMessageBatch calls in flight at once: enough to keep a page moving without a burst SQS would throttle. */
export const DEFAULT_SEND_CONCURRENCY = 4;
/** Tries of an entry SQS failed without blaming the sender (throttling, an internal error). */
const ENTRY_ATTEMPTS = 5;
/** While waiting, the table is asked about at most this many enqueued objects per poll (ten BatchGetItem calls). */
const CHECKS_PER_POLL = 1_000;

export interface QueueBackfillOptions {
  prefix?: string | undefined;
  force?: boolean | undefined;
  retryFailed?: boolean | undefined;
  /** Default true: wait until every enqueued object is processed; false (`--no-wait`) returns once enqueued. */
  wait?: boolean | undefined;
  /** Ctrl-C: stops enqueuing (or waiting); what is in the queue is processed anyway. */
  signal?: AbortSignal | undefined;
  pageSize?: number | undefined;
  sendConcurrency?: number | undefined;
  pollIntervalMs?: number | undefined;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export interface QueueCounters {
  /** ApproximateNumberOfMessages: waiting to be received. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received by the function, not yet deleted. */
  inFlight: number;
}

export interface QueueBackfillReport {
  bucket: string;
  queueName: string;
  prefix: string;
  force: boolean;
  listed: number;
  /** Listed but never the function's (its outputs, folder markers, keys outside the trigger's filter). */
  excluded: number;
  /** Already SUCCEEDED for this ETag. */
  skipped: number;
  skippedFailed: BackfillFailure[];
  /** Put in the queue by an earlier run (the journal) and not processed yet: not enqueued again. */
  alreadyQueued: number;
  /** Put in the queue by this run. */
  enqueued: number;
  /** Named by an earlier run that was killed during the SendMessageBatch call: checked once the queue drained. */
  uncertain: number;
  /** SQS refused them (sender fault, or after every retry). */
  refused: BackfillFailure[];
  /** Of those enqueued (now or before), seen processed in the table while waiting. */
  processed: number;
  succeeded: number;
  failed: BackfillFailure[];
  /** Not seen processed when the wait ended: still queued (--no-wait, Ctrl-C) or in the failed-events queue. */
  notProcessed: string[];
  waited: boolean;
  interrupted: boolean;
  queue: QueueCounters;
  durationMs: number;
  enqueueMs: number;
  /** Processed per second over the whole run (listing, enqueuing and waiting). */
  imagesPerSecond: number;
}

export interface QueueBackfillResult {
  exitCode: ExitCode;
  report: QueueBackfillReport;
  journalFile: string;
}

export interface QueueBackfillProgress {
  update(report: QueueBackfillReport, phase: 'enqueuing' | 'waiting' | 'draining'): void;
  done(report: QueueBackfillReport): void;
}

function missingQueue(settings: StackSettings): CliError {
  return new CliError('BACKFILL_QUEUE_MISSING', `Stack ${settings.stackName} has no backfill queue.`, {
    suggestion: 'Add it with `img-resizer init --backfill-queue` and run this again, or use `img-resizer backfill --via direct` for a small bucket.',
  });
}

async function readCounters(context: AppContext, queueUrl: string): Promise<QueueCounters> {
  const attributes = await getQueueAttributes((await context.clients()).sqs, queueUrl);
  return {
    visible: Number(attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

type KnownQueueItem = KnownItem & Pick<MetadataItem, 'SourceETag'>;

/** An object processed since it was enqueued: an item it did not have, or one newer than the one it had. */
interface Awaited {
  object: ListedObject;
  previousProcessedAt: string | undefined;
}

/**
 * `backfill --via queue`: lists the source bucket a page at a time, skips what is done (SUCCEEDED for the
 * object's ETag, unless --force) or already in the queue (the journal), and enqueues one S3-shaped event per
 * object into the stack's backfill queue with SendMessageBatch; the function consumes the queue through its
 * event source mapping. Then, unless --no-wait, it follows the table and the queue's counters until every
 * enqueued object is processed or the queue is empty.
 */
export async function runQueueBackfill(
  context: AppContext,
  options: QueueBackfillOptions = {},
  progress: QueueBackfillProgress = { update: () => undefined, done: () => undefined },
): Promise<QueueBackfillResult> {
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? delay;
  const started = clock.now();
  const settings = await loadStackSettings(context.settingsFile);
  if (settings.backfillQueue !== true) throw missingQueue(settings);
  const clients = await context.clients();
  const queueName = `${settings.stackName}-backfill`;
  const queueUrl = await getQueueUrl(clients.sqs, queueName);
  if (queueUrl === undefined) throw missingQueue(settings);

  const bucket = settings.sourceBucket;
  const prefix = options.prefix === undefined ? settings.prefix ?? '' : options.prefix.replace(/^\/+/, '');
  const wait = options.wait !== false;
  const file = journalPath(context.settingsFile, settings.stackName);
  const journal = BackfillJournal.open(file, { reset: options.force === true });
  const target = { region: await clients.sqs.config.region(), partition: (await context.identity()).partition };
  const signal = options.signal;
  const stopped = (): boolean => signal?.aborted === true;

  const report: QueueBackfillReport = {
    bucket,
    queueName,
    prefix,
    force: options.force === true,
    listed: 0,
    excluded: 0,
    skipped: 0,
    skippedFailed: [],
    alreadyQueued: 0,
    enqueued: 0,
    uncertain: 0,
    refused: [],
    processed: 0,
    succeeded: 0,
    failed: [],
    notProcessed: [],
    waited: wait,
    interrupted: false,
    queue: { visible: 0, inFlight: 0 },
    durationMs: 0,
    enqueueMs: 0,
    imagesPerSecond: 0,
  };
  /** Enqueued (now or by an earlier run) and not yet seen processed, oldest first. */
  const awaiting = new Map<string, Awaited>();
  const uncertain: Awaited[] = [];
  const limit = pLimit(options.sendConcurrency ?? DEFAULT_SEND_CONCURRENCY);

  const send = async (chunk: Awaited[]): Promise<void> => {
    const entries = new Map<string, { entry: BatchEntry; awaited: Awaited; journal: JournalEntry }>();
    chunk.forEach((awaited, index) => {
      const { object } = awaited;
      const event = synthesizeS3Event(object, { bucket, ...target, principalId: BACKFILL_PRINCIPAL, configurationId: BACKFILL_PRINCIPAL, now: new Date(clock.now()) });
      entries.set(String(index), { entry: { id: String(index), body: JSON.stringify(event) }, awaited, journal: { key: object.key, eTag: object.eTag } });
    });
    // Written before the call: a kill during it leaves these uncertain, never silently lost or sent twice.
    journal.intent([...entries.values()].map((e) => e.journal));
    const refused = await sendMessageBatchWithRetries(clients.sqs, queueUrl, [...entries.values()].map((e) => e.entry), {
      attempts: ENTRY_ATTEMPTS,
      sleep,
      onSent: (ids) => {
        const sent = ids.map((id) => entries.get(id)).filter((e) => e !== undefined);
        journal.sent(sent.map((e) => e.journal));
        for (const e of sent) {
          report.enqueued++;
          awaiting.set(e.journal.key, e.awaited);
        }
      },
    });
    journal.refused(refused.map((f) => entries.get(f.id)?.journal).filter((e) => e !== undefined));
    for (const f of refused) report.refused.push({ key: entries.get(f.id)?.journal.key ?? f.id, errorCode: 'ENQUEUE_FAILED', reason: f.message });
  };

  const enqueue = async (objects: Awaited[]): Promise<void> => {
    const chunks: Awaited[][] = [];
    for (let i = 0; i < objects.length; i += BATCH_LIMIT) chunks.push(objects.slice(i, i + BATCH_LIMIT));
    await Promise.all(chunks.map((chunk) => limit(async () => {
      if (!stopped()) await send(chunk);
    })));
  };

  // ---- list, sort out, enqueue (a page at a time: memory holds one page, plus what is awaited).
  const enqueueStarted = clock.now();
  try {
    const pages = backfillPages<KnownQueueItem>(listObjectPages(clients.s3, bucket, prefix, options.pageSize), bucket, {
      documents: clients.documents,
      settings,
      attributes: ['ImageID', 'Status', 'ProcessedAt', 'ErrorCode', 'ErrorMessage', 'SourceETag'],
      stopped,
      counts: report,
    });
    for await (const { candidates, known } of pages) {
      const todo: Awaited[] = [];
      for (const object of candidates) {
        const item = known.get(imageIdFor(bucket, object.key));
        let disposition = dispositionOf(item, options);
        // SUCCEEDED for another version of the object (replaced since, its event lost): that one is not done.
        if (disposition === 'succeeded' && item?.SourceETag !== undefined && item.SourceETag !== object.eTag) disposition = 'process';
        const awaited = { object, previousProcessedAt: item?.ProcessedAt };
        if (disposition === 'succeeded') report.skipped++;
        else if (disposition === 'failed-permanently') report.skippedFailed.push({ key: object.key, errorCode: item?.ErrorCode, reason: item ? formatFailure(item) : '' });
        else if (journal.stateOf(object) === 'sent') {
          report.alreadyQueued++;
          awaiting.set(object.key, awaited);
        } else if (journal.stateOf(object) === 'intent') uncertain.push(awaited);
        else todo.push(awaited);
      }
      await enqueue(todo);
      progress.update(report, 'enqueuing');
    }
  } catch (error) {
    throw explainMissing(error, { kind: 'bucket', name: bucket, role: 'source' });
  }
  report.enqueueMs = clock.now() - enqueueStarted;
  report.uncertain = uncertain.length;

  // ---- follow the table and the queue.
  const pollInterval = options.pollIntervalMs ?? 2_000;
  const check = async (max: number): Promise<number> => {
    const batch = [...awaiting.values()].slice(0, max);
    if (batch.length === 0) return 0;
    const items = await batchGetItems<KnownQueueItem>(clients.documents, settings.table, batch.map((a) => imageIdFor(bucket, a.object.key)), {
      attributes: ['ImageID', 'Status', 'ProcessedAt', 'ErrorCode', 'ErrorMessage', 'SourceETag'],
    });
    let seen = 0;
    for (const awaited of batch) {
      const item = items.get(imageIdFor(bucket, awaited.object.key));
      if (!item || item.ProcessedAt === awaited.previousProcessedAt) continue;
      awaiting.delete(awaited.object.key);
      seen++;
      report.processed++;
      if (item.Status === 'SUCCEEDED') report.succeeded++;
      else report.failed.push({ key: awaited.object.key, errorCode: item.ErrorCode, reason: formatFailure(item) });
    }
    return seen;
  };
  /** Until every awaited object is processed, or the queue holds nothing and the table says nothing new. */
  const follow = async (phase: 'waiting' | 'draining'): Promise<void> => {
    let emptyPolls = 0;
    while (!stopped()) {
      const seen = await check(CHECKS_PER_POLL);
      report.queue = await readCounters(context, queueUrl);
      progress.update(report, phase);
      if (phase === 'waiting' && awaiting.size === 0) return;
      const empty = report.queue.visible === 0 && report.queue.inFlight === 0;
      emptyPolls = empty && seen === 0 ? emptyPolls + 1 : 0;
      // Two quiet polls in a row: the counters are approximate, and an item lands just after its message goes.
      if (emptyPolls >= 2) return;
      await sleep(pollInterval);
    }
  };

  if (wait && !stopped()) {
    if (uncertain.length > 0) {
      // Each uncertain object is in the queue or not; once the queue is empty the table tells which.
      await follow('draining');
      if (!stopped()) {
        const items = await batchGetItems<KnownQueueItem>(clients.documents, settings.table, uncertain.map((a) => imageIdFor(bucket, a.object.key)), {
          attributes: ['ImageID', 'Status', 'ProcessedAt', 'SourceETag'],
        });
        const missing = uncertain.filter((a) => {
          const item = items.get(imageIdFor(bucket, a.object.key));
          return !(item && item.ProcessedAt !== a.previousProcessedAt && (item.SourceETag === undefined || item.SourceETag === a.object.eTag));
        });
        report.skipped += uncertain.length - missing.length;
        await enqueue(missing);
      }
    }
    await follow('waiting');
  } else if (!stopped()) {
    report.queue = await readCounters(context, queueUrl);
  }

  report.interrupted = stopped();
  report.notProcessed = wait ? [...awaiting.keys()].sort() : [];
  const finished = clock.now();
  report.durationMs = finished - started;
  report.imagesPerSecond = report.durationMs > 0 ? Math.round((report.processed / report.durationMs) * 1000 * 10) / 10 : 0;
  report.failed.sort(byKey);
  report.skippedFailed.sort(byKey);
  // Nothing left to protect against: every object the journal names was seen processed.
  if (wait && !report.interrupted && awaiting.size === 0 && report.refused.length === 0) journal.remove();
  progress.done(report);
  const exitCode = report.interrupted
    ? ExitCode.Interrupted
    : report.failed.length > 0 || report.refused.length > 0 || report.notProcessed.length > 0
      ? ExitCode.Failed
      : ExitCode.Ok;
  return { exitCode, report, journalFile: file };
}

function byKey(a: BackfillFailure, b: BackfillFailure): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
