/**
 * What the direct upload and `upload --via-api` print per file: the same rows, the same lines, whichever way the
 * files went in and however the items were read.
 */
import type { Output } from '../ui/output.js';
import { formatBytes, formatFailure, formatOutputLines } from '../ui/format.js';
import type { UploadedFile } from './upload.js';
import type { WaitResult } from './wait-for-items.js';

/** After the uploads: each failure, and without a wait, where each file that went up now is. */
export function printUploadedFiles(output: Output, results: readonly UploadedFile[], options: { wait: boolean }): void {
  for (const r of results) {
    if (r.outcome === 'UPLOAD_FAILED') output.error(`${r.file}: upload failed: ${r.reason ?? ''}`);
    else if (wentUp(r) && !options.wait) output.success(`${r.file} → s3://${r.bucket}/${r.key} (${formatBytes(r.bytes)}, ${r.contentType})`);
  }
}

/** In the bucket: uploaded, whether or not the trigger fires for it. */
function wentUp(r: UploadedFile): boolean {
  return r.outcome === 'UPLOADED' || r.outcome === 'NOT_TRIGGERED';
}

export interface SettleOptions {
  timeoutSeconds: number;
  /** The reason given to images whose outcome the wait could not learn (`waited.unknown`); unmarked without it. */
  unknownReason?: string | undefined;
  /** Printed under each timed-out image (the direct upload says it once, in its summary). */
  timedOutSuggestion?: string | undefined;
}

/** Writes what the wait found onto the files' rows (item and outcome, or why there is none), then prints each. */
export function settleWaitedFiles(output: Output, results: readonly UploadedFile[], waited: WaitResult, options: SettleOptions): void {
  const byImageId = new Map(results.map((r) => [r.imageId, r]));
  for (const [imageId, item] of waited.settled) {
    const r = byImageId.get(imageId);
    if (!r) continue;
    r.item = item;
    r.outcome = item.Status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    if (r.outcome === 'FAILED') r.reason = formatFailure(item);
  }
  for (const imageId of waited.timedOut) {
    const r = byImageId.get(imageId);
    if (!r) continue;
    r.outcome = 'TIMED_OUT';
    r.reason = `no metadata item within ${options.timeoutSeconds} s`;
  }
  const { unknownReason } = options;
  if (unknownReason !== undefined) {
    for (const imageId of waited.unknown?.imageIds ?? []) {
      const r = byImageId.get(imageId);
      if (!r) continue;
      r.outcome = 'UNKNOWN';
      r.reason = unknownReason;
    }
  }
  for (const r of results) {
    if (r.outcome === 'SUCCEEDED' && r.item) {
      output.success(`${r.key}  SUCCEEDED  ${r.item.OriginalWidth}x${r.item.OriginalHeight} ${r.item.OriginalFormat}, ${formatBytes(r.item.OriginalBytes)} → s3://${r.item.Bucket}/`);
      for (const line of formatOutputLines(r.item)) output.info(line);
    } else if (r.outcome === 'FAILED') {
      output.error(`${r.key}  FAILED  ${r.reason ?? ''}`);
    } else if (r.outcome === 'TIMED_OUT') {
      output.error(`${r.key}  ${r.reason ?? ''}`, options.timedOutSuggestion);
    } else if (r.outcome === 'UNKNOWN') {
      output.warn(`${r.key}  ${r.reason ?? ''}`);
    }
  }
}
