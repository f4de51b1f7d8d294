/**
 * `upload --via-api` (issue 14): uploads through the stack's HTTP API as any app would, so our own client
 * exercises the presigned flow: `POST /uploads` per file, the presigned POST straight to S3, and with `wait`,
 * `GET /images/{key}` until the item settles. The report has the direct upload's shape (and its renderer).
 */
import pLimit from 'p-limit';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { executeApiSigner, HttpApiClient, HttpApiError, type ApiImage, type HttpApiAuth } from '../aws/http-api-client.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, errorMessage, ExitCode, UsageError } from '../errors.js';
import { formatBytes, plural } from '../ui/format.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../constants.js';
import { runApiUrl } from './api.js';
import type { UploadedFile, UploadReport } from './upload.js';
import { printUploadedFiles, settleWaitedFiles } from './upload-outcomes.js';
import { expandUploadPaths, sniffEntries } from './upload-plan.js';
import { systemClock, waitForItems, type Clock, type PendingImage } from './wait-for-items.js';

const DEFAULT_CONCURRENCY = 4;
/** Status reads in flight at once while waiting (each is one GET to the API). */
const STATUS_READ_CONCURRENCY = 8;

export interface UploadViaApiOptions {
  paths: readonly string[];
  /** One of the API's upload prefixes (UPLOAD_PREFIXES); by default the API's own. */
  prefix?: string | undefined;
  wait: boolean;
  timeoutSeconds?: number | undefined;
  concurrency?: number | undefined;
  /** Refuse the whole batch when a file is not an image (by default it is skipped, exit 1). */
  strict?: boolean | undefined;
  /** The bearer token for a JWT-authorised API (--api-token / IMG_RESIZER_API_TOKEN). Never stored or printed. */
  apiToken?: string | undefined;
  clock?: Clock;
  signal?: AbortSignal | undefined;
  /** Node's fetch unless given: tests pass one that records what it forwards. */
  fetch?: typeof fetch;
}

/** The direct upload's report, plus where the files went in. */
export interface UploadViaApiReport extends UploadReport {
  via: 'api';
  apiUrl: string;
  auth: 'AWS_IAM' | 'JWT';
}

export async function runUploadViaApi(context: AppContext, options: UploadViaApiOptions): Promise<{ exitCode: ExitCode; report: UploadViaApiReport }> {
  const { output } = context;
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
  const settings = await loadStackSettings(context.settingsFile);
  const api = await runApiUrl(context, settings);

  let auth: HttpApiAuth;
  if (api.auth === 'JWT') {
    if (options.apiToken === undefined || options.apiToken === '') {
      throw new CliError('API_TOKEN_REQUIRED', `The stack's API (${api.url}) takes a JWT, and no token was given.`, {
        suggestion: 'Pass one with IMG_RESIZER_API_TOKEN=<token> (or --api-token <token>): a token from the issuer the stack trusts, for its audience.',
        exitCode: ExitCode.Usage,
      });
    }
    auth = { kind: 'jwt', token: options.apiToken };
  } else {
    if (options.apiToken !== undefined) output.warn('The stack\'s API uses IAM auth: requests are signed with your AWS credentials, and the API token is not used.');
    auth = { kind: 'iam', signer: executeApiSigner((await context.clients()).apigateway) };
  }
  // No abort signal on the requests: as with the direct upload, Ctrl-C lets uploads in flight finish (no half-sent
  // form), starts no more, and stops the wait between two polls.
  const client = new HttpApiClient({ baseUrl: api.url, auth, ...(options.fetch === undefined ? {} : { fetch: options.fetch }) });

  // Keys come from the API (`{prefix}{name}-{uuid}.{ext}`), so the local names only describe the files.
  const sniffed = await sniffEntries(await expandUploadPaths(options.paths, { cwd: context.cwd, prefix: '' }));
  const nonImages = sniffed.filter((e) => !e.isImage);
  // As the direct upload: a stray non-image is skipped (exit 1), all of them or --strict refuse the batch. The
  // API takes images only, so there is no --force here.
  const skipped: UploadedFile[] = nonImages.map((e) => ({
    file: e.display, bucket: settings.sourceBucket, key: '', bytes: e.bytes, contentType: e.contentType, imageId: '',
    outcome: 'SKIPPED', reason: `not an image: ${e.mime ?? 'unknown type'}`,
  }));
  if (nonImages.length > 0) {
    const described = nonImages.slice(0, 10).map((e) => `${e.display} (${e.mime ?? 'unknown type'})`);
    if (nonImages.length > 10) described.push(`and ${nonImages.length - 10} more`);
    if (options.strict || nonImages.length === sniffed.length) {
      throw new UsageError(
        `Not an image, judging by the bytes: ${described.join(', ')}.`,
        'The API takes images only: leave them out, or upload them directly (without --via-api, with --force).',
      );
    }
    output.warn(`Skipping ${plural(nonImages.length, 'file')} that ${nonImages.length === 1 ? 'is' : 'are'} not an image: ${described.join(', ')} (the API takes images only; --strict refuses the batch)`);
  }
  const entries = sniffed.filter((e) => e.isImage);

  const { signal } = options;
  // A refusal of the caller (401/403) or a missing route fails every file alike: reported once, as what it is.
  let refusal: HttpApiError | undefined;
  const results: UploadedFile[] = [];
  const pending: PendingImage[] = [];
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
  const totalBytes = entries.reduce((sum, e) => sum + e.bytes, 0);
  output.note(`Uploading ${plural(entries.length, 'file')} (${formatBytes(totalBytes)}) through the API at ${api.url}`);
  const progress = output.progress('Uploading', entries.length);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const result: UploadedFile = {
          file: entry.display, bucket: settings.sourceBucket, key: '', bytes: entry.bytes, contentType: entry.contentType, imageId: '', outcome: 'UPLOADED',
        };
        results.push(result);
        if (signal?.aborted || refusal !== undefined) {
          result.outcome = 'NOT_STARTED';
          result.reason = signal?.aborted ? 'interrupted before it started' : 'not started';
          progress.tick();
          return;
        }
        const uploadedAt = clock.now();
        try {
          const upload = await client.createUpload({ filename: entry.display, contentType: entry.contentType, bytes: entry.bytes, prefix: options.prefix });
          Object.assign(result, { bucket: upload.bucket, key: upload.key, imageId: upload.imageId });
          await client.postFile(upload, { path: entry.file, contentType: entry.contentType });
          if (options.wait) pending.push({ imageId: upload.imageId, uploadedAt });
        } catch (error) {
          if (error instanceof HttpApiError && error.affectsEveryFile) refusal ??= error;
          result.outcome = 'UPLOAD_FAILED';
          result.reason = error instanceof CliError && error.suggestion !== undefined ? `${error.message} ${error.suggestion}` : errorMessage(error);
        }
        progress.tick();
      }),
    ),
  );
  progress.stop();
  if (refusal !== undefined) throw refusal;
  results.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  results.push(...skipped);

  printUploadedFiles(output, results, { wait: options.wait });

  if (options.wait && pending.length > 0 && !signal?.aborted) await waitThroughApi(context, client, results, pending, { timeoutSeconds, clock, signal });

  const failed = results.filter((r) => r.outcome === 'UPLOAD_FAILED' || r.outcome === 'FAILED' || r.outcome === 'TIMED_OUT');
  const interrupted = Boolean(signal?.aborted);
  if (failed.length > 0) output.error(`${plural(failed.length, 'file')} did not make it: ${failed.map((r) => r.key || r.file).join(', ')}`);
  if (interrupted) output.warn('Interrupted. Upload again to finish; `img-resizer metadata list` shows what was processed.');
  const report: UploadViaApiReport = {
    bucket: settings.sourceBucket,
    table: settings.table,
    waited: options.wait,
    files: results,
    failed: failed.map((r) => r.key || r.file),
    interrupted,
    skipped: skipped.map((r) => r.file),
    durationMs: clock.now() - started,
    via: 'api',
    apiUrl: api.url,
    auth: api.auth,
  };
  const exitCode = interrupted ? ExitCode.Interrupted : failed.length > 0 || skipped.length > 0 ? ExitCode.Failed : ExitCode.Ok;
  return { exitCode, report };
}

/** Polls `GET /images/{key}` (the wait loop of the direct upload, reading through the API instead of the table). */
async function waitThroughApi(
  context: AppContext,
  client: HttpApiClient,
  results: UploadedFile[],
  pending: PendingImage[],
  options: { timeoutSeconds: number; clock: Clock; signal: AbortSignal | undefined },
): Promise<void> {
  const { output } = context;
  const byImageId = new Map(results.map((r) => [r.imageId, r]));
  const reads = pLimit(STATUS_READ_CONCURRENCY);
  const task = output.task(`Waiting for the function to process ${plural(pending.length, 'image')} (up to ${options.timeoutSeconds} s)`);
  let done = 0;
  const waited = await waitForItems(pending, {
    timeoutMs: options.timeoutSeconds * 1000,
    clock: options.clock,
    signal: options.signal,
    fetch: async (imageIds) => {
      const items = new Map<string, MetadataItem>();
      await Promise.all(
        imageIds.map((imageId) =>
          reads(async () => {
            const key = byImageId.get(imageId)?.key;
            if (key === undefined) return;
            const image = await client.getImage(key);
            if (isSettled(image)) items.set(imageId, image);
          }),
        ),
      );
      return items;
    },
    onSettled: () => {
      done++;
      task.update(`Waiting for the function: ${done}/${pending.length} processed`);
    },
  });
  const failedItems = [...waited.settled.values()].filter((item) => item.Status !== 'SUCCEEDED').length;
  const processed = `The function processed ${plural(waited.settled.size, 'image')}`;
  if (waited.interrupted.length > 0) task.fail(`Interrupted: ${plural(waited.interrupted.length, 'image')} not waited for`);
  else if (waited.timedOut.length > 0) task.fail(`${plural(waited.timedOut.length, 'image')} not processed within ${options.timeoutSeconds} s`);
  else if (failedItems > 0) task.fail(`${processed}: ${failedItems} FAILED`);
  else task.succeed(processed);

  settleWaitedFiles(output, results, waited, {
    timeoutSeconds: options.timeoutSeconds,
    timedOutSuggestion: 'Check the pipeline with `img-resizer status`; a large image may need a longer --timeout.',
  });
}

/** An item the function has written (SUCCEEDED, FAILED, or a later state), not the API's PENDING stand-in. */
function isSettled(image: ApiImage | undefined): image is MetadataItem {
  return image !== undefined && image.Status !== 'PENDING';
}
