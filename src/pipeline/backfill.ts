import pLimit from 'p-limit';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { batchGetItems, getItem } from '../aws/metadata-table.js';
import { listObjectPages, type ListedObject } from '../aws/objects.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { awsErrorName, CliError, errorMessage, ExitCode } from '../errors.js';
import { formatFailure, plural } from './format.js';
import { invokeSynchronously, type InvokeRetryOptions } from './invoke-function.js';
import { synthesizeS3Event } from './s3-event.js';
import { triggerFires } from './trigger-filter.js';
import { explainMissing, onResource } from './stack-errors.js';
import { isFreshItem, systemClock, type Clock } from './wait-for-items.js';

export const DEFAULT_BACKFILL_CONCURRENCY = 8;
/** Shown as requester and notification id in the synthesized events, so they are recognisable in logs. */
const BACKFILL_PRINCIPAL = 'img-resizer-backfill';

export interface BackfillOptions {
  /** Only keys starting with this (as S3's ListObjectsV2 Prefix); the trigger's own prefix filter applies in any case. */
  prefix?: string | undefined;
  concurrency?: number | undefined;
  dryRun?: boolean | undefined;
  /** Reprocess objects that already have a SUCCEEDED item. */
  force?: boolean | undefined;
  /** Stops starting new invocations (Ctrl-C); the ones in flight finish. */
  signal?: AbortSignal | undefined;
  retry?: InvokeRetryOptions;
  clock?: Clock;
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
  /** Objects listed under the prefix. */
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
  /** Left untouched because the run was interrupted; a rerun picks them up. */
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
 * Processes the source objects that have no SUCCEEDED item (all of them with `force`): lists the bucket, checks
 * the table in batches of 100, then invokes the deployed function synchronously with a synthesized S3 event for
 * each, `concurrency` at a time, and reads each item back to learn SUCCEEDED or FAILED. Every step is idempotent,
 * so an interrupted run is finished by running it again.
 */
export async function runBackfill(context: AppContext, options: BackfillOptions = {}): Promise<{ exitCode: ExitCode; report: BackfillReport }> {
  const { output } = context;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const settings = await loadStackSettings(context.settingsFile);
  const concurrency = options.concurrency ?? DEFAULT_BACKFILL_CONCURRENCY;
  // A raw key prefix, as S3 lists by: "photos/" is a folder, "photos/IMG_" a run of names.
  const prefix = options.prefix === undefined ? settings.prefix ?? '' : options.prefix.replace(/^\/+/, '');
  const clients = await context.clients();
  const bucket = settings.sourceBucket;

  const listing = output.task(`Listing s3://${bucket}/${prefix}`);
  const candidates: ListedObject[] = [];
  let listed = 0;
  try {
    for await (const page of listObjectPages(clients.s3, bucket, prefix)) {
      listed += page.length;
      for (const object of page) if (triggerFires(object.key, settings)) candidates.push(object);
      listing.update(`Listing s3://${bucket}/${prefix}: ${listed} objects`);
    }
  } catch (error) {
    listing.fail(`Listing s3://${bucket}/${prefix} failed`);
    throw explainMissing(error, { kind: 'bucket', name: bucket, role: 'source' });
  }
  listing.succeed(`Listed ${plural(listed, 'object')} in s3://${bucket}/${prefix}${listed > candidates.length ? ` (${listed - candidates.length} not for the function)` : ''}`);

  // One BatchGetItem per 100 objects; the previous ProcessedAt also tells a fresh item from an old one later.
  const known = await onResource({ kind: 'table', name: settings.table }, () =>
    batchGetItems<Pick<MetadataItem, 'ImageID' | 'Status' | 'ProcessedAt'>>(
      clients.documents,
      settings.table,
      candidates.map((o) => imageIdFor(bucket, o.key)),
      { attributes: ['ImageID', 'Status', 'ProcessedAt'] },
    ),
  );
  const todo = candidates.filter((o) => options.force === true || known.get(imageIdFor(bucket, o.key))?.Status !== 'SUCCEEDED');

  const report: BackfillReport = {
    bucket,
    functionName: settings.functionName,
    prefix,
    dryRun: Boolean(options.dryRun),
    force: Boolean(options.force),
    concurrency,
    listed,
    excluded: listed - candidates.length,
    skipped: candidates.length - todo.length,
    pending: todo.length,
    processed: 0,
    succeeded: 0,
    failed: [],
    notStarted: 0,
    interrupted: false,
    durationMs: 0,
    invokeMs: 0,
    objectsPerSecond: 0,
  };

  if (options.dryRun) {
    report.wouldProcess = todo.map((o) => o.key);
    if (todo.length === 0) {
      output.info(`Nothing to process${report.skipped > 0 ? `: ${plural(report.skipped, 'object')} already SUCCEEDED` : ''}.`);
    } else {
      output.info(`Would process ${plural(todo.length, 'object')} with ${settings.functionName}${report.skipped > 0 ? `, skipping ${report.skipped} already SUCCEEDED` : ''}:`);
      for (const object of todo) output.info(`  ${object.key}`);
    }
    report.durationMs = clock.now() - started;
    if (output.json) output.result(report);
    return { exitCode: ExitCode.Ok, report };
  }

  const region = await clients.lambda.config.region();
  const { partition } = await context.identity();
  const limit = pLimit(concurrency);
  const stop = new AbortController();
  const onAbort = (): void => { stop.abort(); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let fatal: unknown;
  const progress = todo.length > 0 ? output.progress('Backfill', todo.length) : undefined;
  const invokeStarted = clock.now();

  const processOne = async (object: ListedObject): Promise<void> => {
    if (stop.signal.aborted) {
      report.notStarted++;
      return;
    }
    const imageId = imageIdFor(bucket, object.key);
    const invokedAt = clock.now();
    try {
      const event = synthesizeS3Event(object, {
        bucket, region, partition, principalId: BACKFILL_PRINCIPAL, configurationId: BACKFILL_PRINCIPAL, now: new Date(invokedAt),
      });
      const result = await invokeSynchronously(clients.lambda, settings.functionName, event, options.retry);
      const item = await getItem(clients.documents, settings.table, imageId);
      const fresh = item && isFreshItem(item, { imageId, uploadedAt: invokedAt, previousProcessedAt: known.get(imageId)?.ProcessedAt });
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
      if (isFatal(error)) {
        fatal ??= error;
        stop.abort();
        report.notStarted++;
        return;
      }
      report.processed++;
      report.failed.push({ key: object.key, errorCode: awsErrorName(error), reason: errorMessage(error) });
    } finally {
      progress?.tick();
    }
  };

  try {
    await Promise.all(todo.map((object) => limit(() => processOne(object))));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    progress?.stop();
  }
  if (fatal !== undefined) {
    if (awsErrorName(fatal) === 'ResourceNotFoundException') throw explainMissing(fatal, { kind: 'function', name: settings.functionName });
    throw new CliError('INVOKE_FAILED', `Cannot invoke ${settings.functionName}: ${errorMessage(fatal)}`, {
      suggestion: 'Check the stack with `img-resizer status` (or run `img-resizer init` again).',
      cause: fatal,
    });
  }

  report.interrupted = Boolean(options.signal?.aborted);
  report.invokeMs = clock.now() - invokeStarted;
  report.durationMs = clock.now() - started;
  report.objectsPerSecond = report.invokeMs > 0 ? Math.round((report.processed / report.invokeMs) * 1000 * 10) / 10 : 0;
  report.failed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  printSummary(context, report);
  if (output.json) output.result(report);
  const exitCode = report.interrupted ? ExitCode.Interrupted : report.failed.length > 0 ? ExitCode.Failed : ExitCode.Ok;
  return { exitCode, report };
}

function printSummary(context: AppContext, report: BackfillReport): void {
  const { output } = context;
  const seconds = (report.invokeMs / 1000).toFixed(1);
  const rate = report.processed > 0 ? ` in ${seconds} s (${report.objectsPerSecond} objects/s at concurrency ${report.concurrency})` : '';
  const summary = `Backfill: ${report.processed} processed (${report.succeeded} succeeded, ${report.failed.length} failed), ${report.skipped} skipped as already SUCCEEDED${rate}`;
  if (report.failed.length > 0) {
    output.error(summary);
    for (const failure of report.failed) output.error(`  ${failure.key}: ${failure.reason}`);
  } else if (report.processed === 0 && !report.interrupted) {
    output.success(report.skipped > 0 ? `Nothing to do: ${plural(report.skipped, 'object')} already SUCCEEDED.` : 'Nothing to do: no objects to process.');
  } else {
    output.success(summary);
  }
  if (report.interrupted) {
    output.warn(`Interrupted: ${plural(report.notStarted, 'object')} not started. Run \`img-resizer backfill\` again to finish.`);
  }
}
