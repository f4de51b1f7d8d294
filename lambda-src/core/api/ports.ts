import type { MetadataItem, OutputRecord } from '../metadata.js';
import type { RecordPorts } from '../process-record.js';

export interface PresignPostRequest {
  bucket: string;
  key: string;
  contentType: string;
  /** The policy's content-length-range upper bound. */
  maxBytes: number;
  expiresInSeconds: number;
}

/** A browser-style form upload: POST `url` as multipart/form-data with `fields` first, then `file`. */
export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/** A render lock on one preset of one item: held by `token` until `expiresAt` (epoch ms). */
export interface RenderLock {
  token: string;
  expiresAt: number;
}

/**
 * What the API needs from S3 and DynamoDB. As with RecordPorts, outcomes that are part of normal operation are
 * return values (or the RecordPorts errors); every other error propagates and becomes a 500.
 */
export interface ApiPorts extends Pick<RecordPorts, 'getObject' | 'putObject'> {
  presignPost(request: PresignPostRequest): Promise<PresignedPost>;
  presignGet(bucket: string, key: string, expiresInSeconds: number): Promise<string>;
  /** Strongly consistent: a render that just finished is seen. */
  getItem(imageId: string): Promise<MetadataItem | undefined>;
  /** Whether the object exists (HEAD; nothing is read). */
  objectExists(bucket: string, key: string): Promise<boolean>;
  /**
   * Takes the render lock of `preset` on the item, only if the item is SUCCEEDED for the source with ETag
   * `sourceETag` and the lock is free or expired (`now` past its expiry). Returns the item as it is after the
   * write, or undefined when the lock was not taken.
   */
  acquireRenderLock(imageId: string, preset: string, sourceETag: string, lock: RenderLock, now: number): Promise<MetadataItem | undefined>;
  /**
   * Appends the output to the item's Outputs and frees the lock, only if the lock is still held by `token` and
   * the item still describes `sourceETag`. Returns false when either no longer holds.
   */
  addRenderedOutput(imageId: string, preset: string, sourceETag: string, token: string, output: OutputRecord): Promise<boolean>;
  /** Frees the lock if `token` still holds it (a render that failed); no error otherwise. */
  releaseRenderLock(imageId: string, preset: string, token: string): Promise<void>;
}

/** The item attribute of a preset's render lock. Top level, because DynamoDB cannot SET a path inside a missing map. */
export function renderLockAttribute(preset: string): string {
  return `RenderLock_${preset}`;
}

/** The item without its render locks: the shape the CLI contract describes. */
export function withoutLocks(item: MetadataItem): MetadataItem {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !name.startsWith('RenderLock_'))) as unknown as MetadataItem;
}
