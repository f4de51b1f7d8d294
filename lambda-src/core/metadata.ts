import { encodeKeyPath } from './api/paths.js';
import type { ImageErrorCode } from './errors.js';
import type { OriginalImage, ProcessedOutput } from './image.js';

/** DELETED: the source was removed and its outputs with it (the item stays, to order a late older event). */
export type MetadataStatus = 'SUCCEEDED' | 'FAILED' | 'DELETED';

/** One output object, as listed in an item's `Outputs`. */
export interface OutputRecord {
  /** The size's name from the size spec. */
  Size: string;
  Key: string;
  Width: number;
  Height: number;
  Bytes: number;
  Format: string;
  /** The output's address through the stack's CDN, when it has one (presigned URLs expire, so none is stored). */
  Url?: string;
}

/** An output's CDN URL: the base plus the key, each path segment percent-encoded (the API's redirects use it too). */
export function outputUrl(cdnBaseUrl: string, key: string): string {
  return `${cdnBaseUrl}/${encodeKeyPath(key)}`;
}

/**
 * The metadata item of one source object (DynamoDB, hash key `ImageID`), as the CLI contract describes it.
 * On FAILED items the `Original*` attributes are present as far as they were learnt before the failure, and
 * `Outputs` is empty.
 */
export interface MetadataItem {
  /** `s3://{bucket}/{key}`: derived from the source alone, so a retry rewrites the same item. */
  ImageID: string;
  /** The source key, decoded. */
  OriginalFile: string;
  SourceBucket: string;
  /** The destination bucket (the contract's original name for it; kept). */
  Bucket: string;
  /** The destination bucket again, named for what it is beside `SourceBucket`. */
  DestBucket?: string;
  /** Key of the first output (SUCCEEDED only). */
  ResizedFile?: string;
  Outputs: OutputRecord[];
  OriginalBytes?: number;
  OriginalFormat?: string;
  /** After EXIF orientation. */
  OriginalWidth?: number;
  OriginalHeight?: number;
  Status: MetadataStatus;
  /** FAILED only: a stable upper-case code such as CORRUPT_IMAGE. */
  ErrorCode?: ImageErrorCode | (string & {});
  ErrorMessage?: string;
  /** ISO 8601. */
  ProcessedAt: string;
  DurationMs: number;
  /**
   * The source object's Last-Modified (ISO 8601) when it was read: a write describing an older object than the
   * stored item is refused, so out-of-order events never replace a newer item.
   */
  SourceLastModified?: string;
  /** The source object's ETag, without quotes. */
  SourceETag?: string;
  /** ThumbHash of the image, base64 (SUCCEEDED only; see core/insight.ts). */
  Placeholder?: string;
  /** `#rrggbb`. */
  DominantColor?: string;
  /** 64-bit pHash, 16 hex digits: near-duplicates differ in few bits. */
  PerceptualHash?: string;
  /** Rekognition DetectLabels (LABELS=on), most confident first. */
  Labels?: LabelRecord[];
  /** Why Labels could not be had for this image (Rekognition refused it); the image still succeeds. */
  LabelsUnavailable?: string;
  /** Rekognition DetectModerationLabels (MODERATION=on) at or over the threshold; on MODERATED items. */
  ModerationLabels?: ModerationLabelRecord[];
  /**
   * The S3 event's sequencer, upper case and left-padded to a fixed width (see core/sequencer.ts): a write from
   * an earlier event of the same key than the stored item's is refused.
   */
  Sequencer?: string;
  /** SUCCEEDED only, when the decoders reported something about a file they decoded without visible damage. */
  Warnings?: string[];
}

export interface LabelRecord {
  Name: string;
  /** 0-100. */
  Confidence: number;
  /** Names of the label's parents (Dog: Animal, Pet, Mammal, Canine). */
  Parents: string[];
}

export interface ModerationLabelRecord {
  Name: string;
  Confidence: number;
  /** Empty for a top-level category. */
  ParentName: string;
}

export interface SourceDescription {
  imageId: string;
  bucket: string;
  key: string;
  destBucket: string;
  /** Of the object that was read, when it was. */
  lastModified?: Date | undefined;
  eTag?: string | undefined;
  /** The event's sequencer, in its stored form, when the event had one. */
  sequencer?: string | undefined;
}

export interface Timing {
  startedAt: number;
  finishedAt: number;
}

function common(source: SourceDescription, timing: Timing) {
  return {
    ImageID: source.imageId,
    OriginalFile: source.key,
    SourceBucket: source.bucket,
    Bucket: source.destBucket,
    DestBucket: source.destBucket,
    ProcessedAt: new Date(timing.finishedAt).toISOString(),
    DurationMs: Math.max(0, Math.round(timing.finishedAt - timing.startedAt)),
    ...(source.lastModified ? { SourceLastModified: source.lastModified.toISOString() } : {}),
    ...(source.eTag ? { SourceETag: source.eTag.replace(/"/g, '') } : {}),
    ...(source.sequencer ? { Sequencer: source.sequencer } : {}),
  };
}

export function succeededItem(
  source: SourceDescription,
  original: OriginalImage,
  outputs: readonly (Pick<ProcessedOutput, 'size' | 'width' | 'height' | 'bytes' | 'format'> & { key: string })[],
  timing: Timing,
  cdnBaseUrl?: string,
): MetadataItem {
  const records = outputs.map((output): OutputRecord => ({
    Size: output.size.name,
    Key: output.key,
    Width: output.width,
    Height: output.height,
    Bytes: output.bytes,
    Format: output.format,
    ...(cdnBaseUrl === undefined ? {} : { Url: outputUrl(cdnBaseUrl, output.key) }),
  }));
  return {
    ...common(source, timing),
    ...(records[0] ? { ResizedFile: records[0].Key } : {}),
    Outputs: records,
    OriginalBytes: original.bytes,
    OriginalFormat: original.format,
    OriginalWidth: original.width,
    OriginalHeight: original.height,
    Status: 'SUCCEEDED',
    ...(original.warnings.length > 0 ? { Warnings: original.warnings } : {}),
  };
}

export function failedItem(
  source: SourceDescription,
  error: { code: string; message: string },
  timing: Timing,
  known: { bytes?: number | undefined; format?: string | undefined; width?: number | undefined; height?: number | undefined } = {},
): MetadataItem {
  return {
    ...common(source, timing),
    Outputs: [],
    ...(known.bytes === undefined ? {} : { OriginalBytes: known.bytes }),
    ...(known.format === undefined ? {} : { OriginalFormat: known.format }),
    ...(known.width === undefined ? {} : { OriginalWidth: known.width }),
    ...(known.height === undefined ? {} : { OriginalHeight: known.height }),
    Status: 'FAILED',
    ErrorCode: error.code,
    ErrorMessage: error.message,
  };
}

/** The item of a removed source: no outputs, no original; it keeps the removal's sequencer for ordering. */
export function deletedItem(source: SourceDescription, timing: Timing): MetadataItem {
  return { ...common({ ...source, lastModified: undefined, eTag: undefined }, timing), Outputs: [], Status: 'DELETED' };
}
