import { setTimeout as delay } from 'node:timers/promises';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';

/** Time, injectable so tests can run the wait loop without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => delay(ms),
};

/**
 * The function stamps ProcessedAt with its own clock. A laptop clock a little ahead of AWS's must not make a
 * fresh item look older than the upload, so the "newer than the upload" test allows this much skew; the
 * snapshot of the previous item (below) is what reliably tells a re-upload's new item from the old one.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 30_000;

export interface PendingImage {
  imageId: string;
  /** When the upload started (epoch ms). */
  uploadedAt: number;
  /** ProcessedAt of the item that existed before the upload, if any: that item is stale. */
  previousProcessedAt?: string | undefined;
}

/** True when the item was written for this upload rather than left by an earlier one. */
export function isFreshItem(item: Pick<MetadataItem, 'ProcessedAt'>, pending: PendingImage): boolean {
  if (pending.previousProcessedAt !== undefined && item.ProcessedAt === pending.previousProcessedAt) return false;
  const processedAt = Date.parse(item.ProcessedAt);
  if (Number.isNaN(processedAt)) return pending.previousProcessedAt === undefined;
  return processedAt >= pending.uploadedAt - CLOCK_SKEW_TOLERANCE_MS;
}

export interface WaitOptions {
  /** Reads the current items of these ImageIDs (one batched read per round). */
  fetch: (imageIds: string[]) => Promise<Map<string, MetadataItem>>;
  timeoutMs: number;
  clock?: Clock;
  /** Called once per image as soon as its fresh item is seen. */
  onSettled?: (imageId: string, item: MetadataItem) => void;
  /** First pause between rounds; grows by `backoffFactor` up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  backoffFactor?: number;
  /** Ctrl-C: stop waiting at once; what is still pending is reported as interrupted, not timed out. */
  signal?: AbortSignal | undefined;
}

export interface WaitResult {
  settled: Map<string, MetadataItem>;
  /** ImageIDs without a fresh item when time ran out. */
  timedOut: string[];
  /** ImageIDs still pending when the signal aborted the wait. */
  interrupted: string[];
  /**
   * A read failed (the table or the endpoint went away): the ImageIDs still pending then, whose outcome is
   * unknown, and the error. What settled before it is kept, so the caller can still report every image.
   */
  unknown?: { imageIds: string[]; error: unknown };
  rounds: number;
}

/**
 * Polls until every pending image has a fresh item or the timeout passes. Each round reads all still-pending
 * images at once; the pause between rounds backs off so a slow function is not hammered. The last read happens
 * at the deadline, so an item written just in time still counts.
 */
export async function waitForItems(pending: readonly PendingImage[], options: WaitOptions): Promise<WaitResult> {
  const clock = options.clock ?? systemClock;
  const maxDelay = options.maxDelayMs ?? 2_000;
  const factor = options.backoffFactor ?? 1.5;
  let delay = options.initialDelayMs ?? 250;
  const deadline = clock.now() + options.timeoutMs;
  const remaining = new Map(pending.map((p) => [p.imageId, p]));
  const settled = new Map<string, MetadataItem>();
  let rounds = 0;

  const { signal } = options;
  while (remaining.size > 0 && !signal?.aborted) {
    rounds++;
    let items: Map<string, MetadataItem>;
    try {
      items = await options.fetch([...remaining.keys()]);
    } catch (error) {
      return { settled, timedOut: [], interrupted: [], unknown: { imageIds: [...remaining.keys()], error }, rounds };
    }
    for (const [imageId, item] of items) {
      const entry = remaining.get(imageId);
      if (entry && isFreshItem(item, entry)) {
        remaining.delete(imageId);
        settled.set(imageId, item);
        options.onSettled?.(imageId, item);
      }
    }
    const left = deadline - clock.now();
    if (remaining.size === 0 || left <= 0 || signal?.aborted) break;
    await sleepUnlessAborted(clock, Math.min(delay, left), signal);
    delay = Math.min(delay * factor, maxDelay);
  }
  if (signal?.aborted) return { settled, timedOut: [], interrupted: [...remaining.keys()], rounds };
  return { settled, timedOut: [...remaining.keys()], interrupted: [], rounds };
}

/** The clock's sleep, cut short when the signal aborts. */
function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return clock.sleep(ms);
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void clock.sleep(ms).then(done);
  });
}
