import { readFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from '../../lambda-src/core/settings.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { shellWord } from '../paths.js';
import { awsErrorName, CliError, errorMessage, ExitCode, UsageError } from '../errors.js';
import { formatBytes } from '../ui/bytes.js';
import { plural } from '../ui/plural.js';
import { explainMissing, onResource } from './stack-errors.js';
import { triggerFires } from './trigger-filter.js';
import { expandUploadPaths, normalizePrefix, sniffEntries, type SniffedEntry } from './upload-plan.js';
import { systemClock, waitForItems, type Clock, type PendingImage } from './wait-for-items.js';

import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../constants.js';
const DEFAULT_UPLOAD_CONCURRENCY = 4;

export interface UploadOptions {
  paths: readonly string[];
  /** Key prefix (a folder); defaults to the trigger's prefix filter from the settings, else the bucket root. */
  prefix?: string | undefined;
  /** Wait for each image's metadata item. */
  wait: boolean;
  timeoutSeconds?: number | undefined;
  /** Upload files whose bytes are not an image. */
  force?: boolean | undefined;
  /** Refuse the whole batch when a file is not an image (the default skips it with a warning). */
  strict?: boolean | undefined;
  concurrency?: number | undefined;
  clock?: Clock;
  /** Ctrl-C: uploads not yet started are skipped, those in flight finish, and the wait stops. */
  signal?: AbortSignal | undefined;
}

/**
 * SKIPPED: not an image, left out of the batch (no --force). UNKNOWN: uploaded, but the wait lost the table or
 * the endpoint before its item was seen, so whether the function processed it is not known.
 */
export type UploadOutcome = 'UPLOADED' | 'UPLOAD_FAILED' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'NOT_TRIGGERED' | 'NOT_STARTED' | 'SKIPPED' | 'UNKNOWN';

export interface UploadedFile {
  file: string;
  bucket: string;
  key: string;
  bytes: number;
  contentType: string;
  imageId: string;
  outcome: UploadOutcome;
  /** Why it did not succeed (upload error, the item's error, timeout, trigger filter). */
  reason?: string;
  /** The metadata item, when waited for and found. */
  item?: MetadataItem;
}

export interface UploadReport {
  bucket: string;
  table: string;
  waited: boolean;
  files: UploadedFile[];
  /** Keys that failed (upload error or FAILED item) or timed out. */
  failed: string[];
  /** Ctrl-C ended the run early: files NOT_STARTED were not uploaded, UPLOADED ones not waited for. */
  interrupted: boolean;
  /** Files left out as not images, with the core's verdict on each (code and message). */
  skipped: string[];
  /** The wait stopped on this error (table or endpoint gone); the files say what is known of each. */
  error?: WaitError;
  durationMs: number;
}

/**
 * Uploads files to the source bucket (type sniffed from the bytes, Content-Type set, several at a time) and,
 * with `wait`, polls the table until each image's item is written for this upload, printing its outputs.
 */
export async function runUpload(context: AppContext, options: UploadOptions): Promise<{ exitCode: ExitCode; report: UploadReport }> {
  const { output } = context;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
  const settings = await loadStackSettings(context.settingsFile);
  // The trigger's own prefix by default, so uploads reach the function; a folder either way ("uploads" → "uploads/").
  const prefix = normalizePrefix(options.prefix ?? settings.prefix);

  const expanded = await expandUploadPaths(options.paths, { cwd: context.cwd, prefix });
  // The arguments name files: who the caller is can be asked now, while the files are read (issue 21).
  await context.sendFirstRequest();
  const sniffed = await sniffEntries(expanded);
  const nonImages = sniffed.filter((e) => !e.isImage);
  // The sniff is upload's pre-filter; what a flagged file is called is the core's judgement, as the function
  // would record it (UNSUPPORTED_FORMAT, CORRUPT_IMAGE, ...).
  const verdicts = new Map(await Promise.all(nonImages.map(async (e) => [e.file, await judgeFile(e)] as const)));
  const described = nonImages.slice(0, 10).map((e) => `${e.display} (${verdicts.get(e.file) ?? e.mime ?? 'unknown type'})`);
  if (nonImages.length > 10) described.push(`and ${nonImages.length - 10} more`);
  let entries = sniffed;
  const skipped: UploadedFile[] = [];
  if (nonImages.length > 0) {
    if (options.force) {
      output.warn(`Uploading ${plural(nonImages.length, 'file')} that ${nonImages.length === 1 ? 'is' : 'are'} not an image (--force): ${described.join(', ')}`);
    } else if (options.strict || nonImages.length === sniffed.length) {
      throw new UsageError(
        `Not an image, judging by the bytes: ${described.join(', ')}.`,
        'Leave them out, or pass --force to upload them anyway (the function will record them as FAILED).',
      );
    } else {
      // One stray file does not cost the batch: the rest go up, the exit code says something was left out.
      entries = sniffed.filter((e) => e.isImage);
      for (const e of nonImages) {
        skipped.push({
          file: e.display, bucket: settings.sourceBucket, key: e.key, bytes: e.bytes, contentType: e.contentType, imageId: imageIdFor(settings.sourceBucket, e.key),
          outcome: 'SKIPPED', reason: `not an image: ${verdicts.get(e.file) ?? e.mime ?? 'unknown type'}`,
        });
      }
      output.warn(`Skipping ${plural(nonImages.length, 'file')} that ${nonImages.length === 1 ? 'is' : 'are'} not an image: ${described.join(', ')} (--force uploads them anyway, --strict refuses the batch)`);
    }
  }
  const untriggered = entries.filter((e) => !triggerFires(e.key, settings));
  if (untriggered.length > 0) {
    output.warn(
      `The trigger will not process ${untriggered.map((e) => e.key).join(', ')} (its filter is prefix "${settings.prefix ?? ''}", suffix "${settings.suffix ?? ''}").`,
    );
  }

  const clients = await context.clients();
  // Loaded once the first request (who the caller is) has gone out: the S3, upload and DynamoDB modules (and the
  // report's tables) are the heaviest part of the command, and the operator already sees where it acts meanwhile (issue 21).
  const [{ batchGetItems }, { uploadFile }, { printUploadedFiles, settleWaitedFiles }] = await Promise.all([
    import('../aws/metadata-table.js'),
    import('../aws/objects.js'),
    import('./upload-outcomes.js'),
  ]);
  const bucket = settings.sourceBucket;
  const table = settings.table;
  const imageIdOf = (entry: SniffedEntry): string => imageIdFor(bucket, entry.key);

  // The items that exist before the upload are stale for this run: a re-upload must wait for a new one.
  const tableResource = { kind: 'table', name: table } as const;
  const previous = options.wait
    ? await onResource(tableResource, () =>
        batchGetItems<Pick<MetadataItem, 'ImageID' | 'ProcessedAt'>>(clients.documents, table, entries.map(imageIdOf), {
          attributes: ['ImageID', 'ProcessedAt'],
        }),
      )
    : new Map<string, Pick<MetadataItem, 'ImageID' | 'ProcessedAt'>>();
  const { signal } = options;
  // A missing bucket fails every file alike: reported once, as what it is.
  let missingBucket: unknown;

  const results: UploadedFile[] = [];
  const pending: PendingImage[] = [];
  const limit = pLimit(options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY);
  const totalBytes = entries.reduce((sum, e) => sum + e.bytes, 0);
  output.note(`Uploading ${plural(entries.length, 'file')} (${formatBytes(totalBytes)}) to s3://${bucket}/${prefix}`);
  const progress = output.progress('Uploading', entries.length);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const imageId = imageIdOf(entry);
        const result: UploadedFile = {
          file: entry.display, bucket, key: entry.key, bytes: entry.bytes, contentType: entry.contentType, imageId, outcome: 'UPLOADED',
        };
        if (signal?.aborted || missingBucket !== undefined) {
          result.outcome = 'NOT_STARTED';
          result.reason = signal?.aborted ? 'interrupted before it started' : 'not started';
          results.push(result);
          // Settled too: the bar counts every file, so it reaches its total however the run ends.
          progress.tick();
          return;
        }
        const uploadedAt = clock.now();
        try {
          await uploadFile(clients.s3, { bucket, key: entry.key, file: entry.file, bytes: entry.bytes, contentType: entry.contentType });
          if (!triggerFires(entry.key, settings)) {
            result.outcome = 'NOT_TRIGGERED';
            result.reason = 'outside the trigger\'s filter';
          } else if (options.wait) {
            pending.push({ imageId, uploadedAt, previousProcessedAt: previous.get(imageId)?.ProcessedAt });
          }
        } catch (error) {
          if (awsErrorName(error) === 'NoSuchBucket') missingBucket ??= error;
          result.outcome = 'UPLOAD_FAILED';
          result.reason = errorMessage(error);
        }
        results.push(result);
        progress.tick();
      }),
    ),
  );
  progress.stop();
  if (missingBucket !== undefined) throw explainMissing(missingBucket, { kind: 'bucket', name: bucket, role: 'source' });
  results.push(...skipped);
  results.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  printUploadedFiles(output, results, { wait: options.wait });

  let waitError: WaitError | undefined;
  let interruptLine = (message: string): void => { output.warn(message); };
  if (options.wait && pending.length > 0 && !signal?.aborted) {
    const task = output.task(`Waiting for the function to process ${plural(pending.length, 'image')} (up to ${timeoutSeconds} s)`);
    let done = 0;
    const waited = await waitForItems(pending, {
      timeoutMs: timeoutSeconds * 1000,
      clock,
      fetch: (ids) => onResource(tableResource, () => batchGetItems(clients.documents, table, ids)),
      signal,
      onSettled: () => {
        done++;
        task.update(`Waiting for the function: ${done}/${pending.length} processed`);
      },
    });
    const failedItems = [...waited.settled.values()].filter((item) => item.Status !== 'SUCCEEDED').length;
    const processed = `The function processed ${plural(waited.settled.size, 'image')}`;
    if (waited.unknown) {
      waitError = errorDocument(waited.unknown.error);
      task.fail(`Stopped waiting after ${waited.settled.size} of ${pending.length}: ${waitError.message}`);
    } else if (waited.interrupted.length > 0) {
      // The one message Ctrl-C gets, where the spinner was (see interruptMessage).
      interruptLine = (message) => { task.fail(message); };
    } else if (waited.timedOut.length > 0) task.fail(`${plural(waited.timedOut.length, 'image')} not processed within ${timeoutSeconds} s`);
    else if (failedItems > 0) task.fail(`${processed}: ${failedItems} FAILED`);
    else task.succeed(processed);

    settleWaitedFiles(output, results, waited, {
      timeoutSeconds,
      unknownReason: waitError ? `uploaded; whether it was processed is unknown: ${waitError.message}` : undefined,
    });
  }

  const failed = results.filter((r) => r.outcome === 'UPLOAD_FAILED' || r.outcome === 'FAILED' || r.outcome === 'TIMED_OUT');
  const interrupted = Boolean(signal?.aborted);
  const report: UploadReport = {
    bucket,
    table,
    waited: options.wait,
    files: results,
    failed: failed.map((r) => r.key),
    interrupted,
    skipped: skipped.map((r) => r.key),
    ...(waitError ? { error: waitError } : {}),
    durationMs: clock.now() - started,
  };
  if (failed.length > 0) {
    const timedOut = failed.filter((r) => r.outcome === 'TIMED_OUT');
    output.error(
      `${plural(failed.length, 'file')} did not make it: ${failed.map((r) => r.key).join(', ')}`,
      timedOut.length > 0
        ? 'Check the trigger with `img-resizer status`; a large image may need a longer --timeout, and `img-resizer backfill` processes what was missed.'
        : undefined,
    );
  }
  if (waitError) {
    const unknown = results.filter((r) => r.outcome === 'UNKNOWN');
    output.error(
      `${waitError.message} ${plural(unknown.length, 'uploaded file')} ${unknown.length === 1 ? 'has' : 'have'} no known outcome: ${unknown.map((r) => r.key).join(', ')}.`,
      waitError.suggestion,
    );
  }
  if (interrupted) interruptLine(interruptMessage(results, options.wait, context.commandLine()));
  const exitCode = interrupted
    ? ExitCode.Interrupted
    : waitError
      ? waitError.exitCode
      : failed.length > 0 || skipped.length > 0 ? ExitCode.Failed : ExitCode.Ok;
  return { exitCode, report };
}

export interface WaitError {
  code: string;
  message: string;
  suggestion?: string;
  exitCode: ExitCode;
}

/** The error that ended the wait, as the report carries it (the typed error's code, else the SDK's name). */
function errorDocument(error: unknown): WaitError {
  if (error instanceof CliError) {
    return { code: error.code, message: error.message, ...(error.suggestion === undefined ? {} : { suggestion: error.suggestion }), exitCode: error.exitCode };
  }
  return { code: awsErrorName(error) ?? 'ERROR', message: errorMessage(error), exitCode: ExitCode.Failed };
}

/**
 * Ctrl-C's one message: what is up (the function processes it whether or not anyone waits) and how to check,
 * and what was not uploaded.
 */
function interruptMessage(results: readonly UploadedFile[], waited: boolean, commandLine: string): string {
  const up = results.filter((r) => ['UPLOADED', 'SUCCEEDED', 'FAILED', 'NOT_TRIGGERED'].includes(r.outcome));
  const notStarted = results.filter((r) => r.outcome === 'NOT_STARTED');
  const unsettled = up.filter((r) => r.outcome === 'UPLOADED' && waited);
  const parts = up.length > 0 ? [`${plural(up.length, 'file')} uploaded`] : [];
  if (unsettled.length > 0) {
    const first = unsettled[0]?.key ?? '';
    parts.push(
      `${unsettled.length === up.length ? `the function processes ${up.length === 1 ? 'it' : 'them'}` : `the function processes the ${unsettled.length} not waited for`} anyway; ` +
        `check with \`${commandLine} metadata get ${shellWord(first)}\`${unsettled.length > 1 ? ` (or \`${commandLine} metadata list\`)` : ''}`,
    );
  }
  if (notStarted.length > 0) parts.push(`${plural(notStarted.length, 'file')} not uploaded (${notStarted.slice(0, 5).map((r) => r.file).join(', ')}${notStarted.length > 5 ? ', ...' : ''}): upload ${notStarted.length === 1 ? 'it' : 'them'} again`);
  return parts.length === 0 ? 'Interrupted.' : `Interrupted: ${parts.join('; ')}.`;
}

/** The core's verdict on a file the sniff flagged, as the function would record it ("UNSUPPORTED_FORMAT: ..."). */
async function judgeFile(entry: SniffedEntry): Promise<string | undefined> {
  if (entry.bytes === 0) return 'EMPTY_OBJECT: the file is empty';
  if (entry.bytes > DEFAULT_MAX_BYTES) return undefined;
  // sharp loads only when a batch holds such a file.
  const { classifyImage } = await import('../../lambda-src/core/classify.js');
  const verdict = await classifyImage(await readFile(entry.file), { maxPixels: DEFAULT_MAX_PIXELS, maxBytes: DEFAULT_MAX_BYTES });
  return verdict.ok ? undefined : `${verdict.code}: ${verdict.message}`;
}
