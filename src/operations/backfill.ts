import pLimit from 'p-limit';
import { isPermanentImageError } from '../../lambda-src/core/errors.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { getItem } from '../aws/metadata-table.js';
import { listObjectPages, type ListedObject } from '../aws/objects.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { awsErrorName, CliError, errorMessage, ExitCode } from '../errors.js';
import { backfillPages } from './backfill-pages.js';
import { backfillProgress } from './backfill-progress.js';
import { formatFailure, plural } from '../ui/format.js';
import { invokeSynchronously, type InvokeRetryOptions } from './invoke-function.js';
import { synthesizeObjectCreatedEvent, synthesizeS3Event } from './s3-event.js';
import { runWorkflowSynchronously } from './start-workflow.js';
import { workflowNames } from '../provision/workflow.js';
import { explainMissing } from './stack-errors.js';
import { isFreshItem, systemClock, type Clock } from './wait-for-items.js';

import { DEFAULT_BACKFILL_CONCURRENCY } from '../constants.js';
import { workflowModeFor } from '../config/stack-settings.js';
/** Shown as requester and notification id in the synthesized events, so they are recognisable in logs. */
export const BACKFILL_PRINCIPAL = 'img-resizer-backfill';

export interface BackfillOptions {
  /** Only keys starting with this (as S3's ListObjectsV2 Prefix); the trigger's own prefix filter applies in any case. */
  prefix?: string | undefined;
  concurrency?: number | undefined;
  dryRun?: boolean | undefined;
  /** Reprocess objects that already have a SUCCEEDED item. */
  force?: boolean | undefined;
  /** Process again objects whose last item FAILED permanently (e.g. UNSUPPORTED_FORMAT); skipped otherwise. */
  retryFailed?: boolean | undefined;
  /** Stops starting new invocations (Ctrl-C); the ones in flight finish. */
  signal?: AbortSignal | undefined;
  retry?: InvokeRetryOptions;
  clock?: Clock;
  /** Keys per ListObjectsV2 page: S3's maximum (1,000) unless a test wants many small pages. */
  pageSize?: number | undefined;
}

export interface BackfillFailure {
  key: string;
  errorCode?: string | undefined;
  reason: string;
}

export interface BackfillReport {
  bucket: string;
  functionName: string;
  prefix: string;
  dryRun: boolean;
  force: boolean;
  concurrency: number;
  /** Objects listed under the prefix (on an interrupted run, on the pages listed before it stopped). */
  listed: number;
  /** Listed but never the function's to process: its own outputs, folder markers, keys outside the trigger's filter. */
  excluded: number;
  /** Already had a SUCCEEDED item. */
  skipped: number;
  /** Needed processing (or, with --dry-run, would have been processed). */
  pending: number;
  /** Invoked: succeeded + failed. */
  processed: number;
  succeeded: number;
  failed: BackfillFailure[];
  /**
   * Not invoked: their last item FAILED with a permanent code (lambda-src/core/errors.ts), so another try gives
   * the same answer. Listed for the operator; they do not make the exit code 1. `--retry-failed` processes them.
   */
  skippedFailed: BackfillFailure[];
  /** Left untouched because the run was interrupted (counted on the pages listed so far); a rerun picks them up. */
  notStarted: number;
  interrupted: boolean;
  /** With --dry-run: the keys that would be processed. */
  wouldProcess?: string[];
  durationMs: number;
  /** Time spent invoking, and the rate of it. */
  invokeMs: number;
  objectsPerSecond: number;
}

/** Errors that would fail every object alike: stop instead of reporting the same failure N times. */
function isFatal(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'ResourceNotFoundException' || name === 'AccessDeniedException' || name === 'UnrecognizedClientException' ||
    name === 'ExpiredTokenException' || name === 'InvalidSignatureException';
}

/**
 * Pages whose invocations may be queued or running at once. The next page is listed and checked while the
 * previous one's invocations run, so the invokers rarely wait on S3; a third page is not listed until the oldest
 * is done, so no more than this many pages of keys (1,000 each) are held however large the bucket.
 */
const PAGES_IN_FLIGHT = 2;

export type KnownItem = Pick<MetadataItem, 'ImageID' | 'Status' | 'ProcessedAt' | 'ErrorCode' | 'ErrorMessage'>;

type Disposition = 'process' | 'succeeded' | 'failed-permanently';

export function dispositionOf(item: KnownItem | undefined, options: Pick<BackfillOptions, 'force' | 'retryFailed'>): Disposition {
  if (options.force === true || item === undefined) return 'process';
  if (item.Status === 'SUCCEEDED') return 'succeeded';
  if (item.Status === 'FAILED' && options.retryFailed !== true && isPermanentImageError(item.ErrorCode)) return 'failed-permanently';
  return 'process';
}

/**
 * Processes the source objects that have no SUCCEEDED item (all of them with `force`), streaming: lists the
 * bucket a page at a time, checks each page's objects against the table in batches of 100, then invokes the
 * deployed function synchronously with a synthesized S3 event for each, `concurrency` at a time, and reads each
 * item back to learn SUCCEEDED or FAILED. Memory stays bounded by PAGES_IN_FLIGHT pages, not the bucket's size.
 * Every step is idempotent, so an interrupted run is finished by running it again.
 */
export interface BackfillResult {
  exitCode: ExitCode;
  report: BackfillReport;
  functionName: string;
  /** False when an interruption stopped the listing too (objects on later pages are in no count). */
  listingComplete: boolean;
}

export async function runBackfill(context: AppContext, options: BackfillOptions = {}): Promise<BackfillResult> {
  const { output } = context;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const settings = await loadStackSettings(context.settingsFile);
  const concurrency = options.concurrency ?? DEFAULT_BACKFILL_CONCURRENCY;
  // A raw key prefix, as S3 lists by: "photos/" is a folder, "photos/IMG_" a run of names.
  const prefix = options.prefix === undefined ? settings.prefix ?? '' : options.prefix.replace(/^\/+/, '');
  const clients = await context.clients();
  const bucket = settings.sourceBucket;
  const dryRun = Boolean(options.dryRun);
  const location = `s3://${bucket}/${prefix}`;

  const report: BackfillReport = {
    bucket,
    functionName: settings.functionName,
    prefix,
    dryRun,
    force: Boolean(options.force),
    concurrency,
    listed: 0,
    excluded: 0,
    skipped: 0,
    pending: 0,
    processed: 0,
    succeeded: 0,
    failed: [],
    skippedFailed: [],
    notStarted: 0,
    interrupted: false,
    durationMs: 0,
    invokeMs: 0,
    objectsPerSecond: 0,
  };
  const wouldProcess: string[] = [];

  const limit = pLimit(concurrency);
  const stop = new AbortController();
  const stopped = (): boolean => stop.signal.aborted;
  const onAbort = (): void => { stop.abort(); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const progress = backfillProgress(output, `Backfill ${location}`, { dryRun, clock });
  // Region and partition go into every event; asked once, when the first object needs invoking.
  let eventTarget: Promise<{ region: string; partition: string; account: string }> | undefined;
  // Workflow mode: executions of the state machine instead of direct invocations, with the rule's event shape.
  const workflow = workflowModeFor(settings);
  let invokeStarted: number | undefined;
  // Set from inside the invocations (TypeScript's flow analysis cannot see that through a plain `let`).
  const fatal: { invokeError?: unknown; listing?: boolean } = {};
  const listing = { complete: false };

  const processOne = async (object: ListedObject, previous: KnownItem | undefined, target: { region: string; partition: string; account: string }): Promise<void> => {
    if (stop.signal.aborted) {
      report.notStarted++;
      return;
    }
    const imageId = imageIdFor(bucket, object.key);
    const invokedAt = clock.now();
    try {
      const result = workflow
        ? await runWorkflowSynchronously(
            clients.sfn,
            workflowNames({ settings, ...target }).stateMachineArn,
            settings.stateMachineType ?? 'express',
            synthesizeObjectCreatedEvent(object, { bucket, ...target, principalId: BACKFILL_PRINCIPAL, now: new Date(invokedAt) }),
          )
        : await invokeSynchronously(
            clients.lambda,
            settings.functionName,
            synthesizeS3Event(object, { bucket, ...target, principalId: BACKFILL_PRINCIPAL, configurationId: BACKFILL_PRINCIPAL, now: new Date(invokedAt) }),
            // The stop signal also cuts a throttling back-off short: Ctrl-C must not wait out a 20 s retry delay.
            { ...options.retry, signal: stop.signal },
          );
      const item = await getItem(clients.documents, settings.table, imageId);
      const fresh = item && isFreshItem(item, { imageId, uploadedAt: invokedAt, previousProcessedAt: previous?.ProcessedAt });
      report.processed++;
      if (fresh && item.Status === 'SUCCEEDED' && !result.functionError) {
        report.succeeded++;
      } else if (fresh && item.Status === 'FAILED') {
        report.failed.push({ key: object.key, errorCode: item.ErrorCode, reason: formatFailure(item) });
      } else if (result.functionError) {
        report.failed.push({ key: object.key, errorCode: 'FUNCTION_ERROR', reason: result.errorMessage ?? result.functionError });
      } else {
        report.failed.push({ key: object.key, errorCode: 'NO_ITEM', reason: 'the function returned but wrote no new metadata item' });
      }
    } catch (error) {
      if (awsErrorName(error) === 'AbortError' && stopped()) {
        // Interrupted while backing off: the object was not processed; the next run picks it up.
        report.notStarted++;
        return;
      }
      if (isFatal(error)) {
        fatal.invokeError ??= error;
        stop.abort();
        report.notStarted++;
        return;
      }
      report.processed++;
      report.failed.push({ key: object.key, errorCode: awsErrorName(error), reason: errorMessage(error) });
    } finally {
      progress.update(report);
    }
  };

  // Each entry settles when all of one page's invocations have (processOne never rejects).
  const pagesInFlight: Promise<unknown>[] = [];
  async function* pagesExplained(): AsyncGenerator<ListedObject[]> {
    try {
      yield* listObjectPages(clients.s3, bucket, prefix, options.pageSize);
      listing.complete = true;
    } catch (error) {
      fatal.listing = true;
      throw explainMissing(error, { kind: 'bucket', name: bucket, role: 'source' });
    }
  }

  try {
    const pages = backfillPages<KnownItem>(pagesExplained(), bucket, {
      documents: clients.documents,
      settings,
      attributes: ['ImageID', 'Status', 'ProcessedAt', 'ErrorCode', 'ErrorMessage'],
      stopped,
      counts: report,
    });
    for await (const { candidates, known } of pages) {
      const todo: ListedObject[] = [];
      for (const object of candidates) {
        const item = known.get(imageIdFor(bucket, object.key));
        const disposition = dispositionOf(item, options);
        if (disposition === 'process') todo.push(object);
        else if (disposition === 'succeeded') report.skipped++;
        else if (item !== undefined) report.skippedFailed.push({ key: object.key, errorCode: item.ErrorCode, reason: formatFailure(item) });
      }
      report.pending += todo.length;
      progress.update(report);
      if (dryRun) {
        for (const object of todo) wouldProcess.push(object.key);
        continue;
      }
      if (todo.length === 0) continue;
      eventTarget ??= (async () => {
        const identity = await context.identity();
        return { region: await clients.lambda.config.region(), partition: identity.partition, account: identity.account };
      })();
      const target = await eventTarget;
      invokeStarted ??= clock.now();
      pagesInFlight.push(Promise.all(todo.map((object) => limit(() => processOne(object, known.get(imageIdFor(bucket, object.key)), target)))));
      const oldest = pagesInFlight.length >= PAGES_IN_FLIGHT ? pagesInFlight.shift() : undefined;
      await oldest;
      // Stopped (Ctrl-C or a fatal error): list no further page.
      if (stopped()) break;
    }
  } catch (error) {
    // Let the invocations already started finish (they are idempotent either way) before reporting.
    stop.abort();
    await Promise.allSettled(pagesInFlight);
    progress.fail(fatal.listing ? `Listing ${location} failed` : `Backfill of ${location} stopped after ${plural(report.processed, 'object')}`);
    throw error;
  } finally {
    await Promise.allSettled(pagesInFlight);
    options.signal?.removeEventListener('abort', onAbort);
  }

  const notForFunction = report.excluded > 0 ? ` (${report.excluded} not for the function)` : '';
  const listedText = `Listed ${plural(report.listed, 'object')} in ${location}${notForFunction}`;
  const fatalInvokeError = fatal.invokeError;
  if (fatalInvokeError !== undefined) {
    progress.fail(`${listedText}; stopped after ${plural(report.processed, 'object')}`);
    if (awsErrorName(fatalInvokeError) === 'ResourceNotFoundException') throw explainMissing(fatalInvokeError, { kind: 'function', name: settings.functionName });
    throw new CliError('INVOKE_FAILED', `Cannot invoke ${settings.functionName}: ${errorMessage(fatalInvokeError)}`, {
      suggestion: 'Check the stack with `img-resizer status` (or run `img-resizer init` again).',
      cause: fatalInvokeError,
    });
  }
  progress.succeed(listing.complete ? listedText : `${listedText} before the interruption`);

  if (dryRun) {
    report.wouldProcess = wouldProcess;
    report.durationMs = clock.now() - started;
    return { exitCode: ExitCode.Ok, report, functionName: settings.functionName, listingComplete: listing.complete };
  }

  report.interrupted = Boolean(options.signal?.aborted);
  const finished = clock.now();
  report.invokeMs = invokeStarted === undefined ? 0 : finished - invokeStarted;
  report.durationMs = finished - started;
  report.objectsPerSecond = report.invokeMs > 0 ? Math.round((report.processed / report.invokeMs) * 1000 * 10) / 10 : 0;
  report.failed.sort(byKey);
  report.skippedFailed.sort(byKey);
  const exitCode = report.interrupted ? ExitCode.Interrupted : report.failed.length > 0 ? ExitCode.Failed : ExitCode.Ok;
  return { exitCode, report, functionName: settings.functionName, listingComplete: listing.complete };
}

function byKey(a: BackfillFailure, b: BackfillFailure): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
