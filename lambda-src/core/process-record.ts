import { analyseContent, analysisAttributes, type ContentAnalysis, type ContentAnalysisPort } from './content-analysis.js';
import { ImageError, type ImageErrorCode } from './errors.js';
import type { S3ObjectRecord } from './event.js';
import { imageIdFor } from './image-id.js';
import { processImage } from './image.js';
import { insightAttributes, insightFromOutputs } from './insight.js';
import { isOutputKey, outputKeyFor } from './keys.js';
import { failedItem, succeededItem, type MetadataItem, type SourceDescription } from './metadata.js';
import { storedSequencer } from './sequencer.js';
import type { FunctionSettings } from './settings.js';

/** The source object as read: its headers first, the body only on request (after the byte limit is checked). */
export interface SourceObject {
  contentLength: number | undefined;
  eTag: string | undefined;
  lastModified: Date | undefined;
  read(): Promise<Buffer>;
  /** Releases the connection when the body will not be read. */
  discard(): void;
}

export interface PutObjectRequest {
  bucket: string;
  key: string;
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

/**
 * What processing one record needs from the outside world. Implementations throw the errors below for the
 * outcomes that are part of normal operation, and let every other error (throttling, 5xx, timeouts, denied
 * access) propagate: those make the invocation fail so that Lambda retries it.
 */
export interface RecordPorts {
  /** @throws ObjectNotFoundError, SourceChangedError (when `ifMatch` no longer matches), ReadDeniedError */
  getObject(bucket: string, key: string, options: { ifMatch?: string | undefined }): Promise<SourceObject>;
  putObject(request: PutObjectRequest): Promise<void>;
  /** @throws NewerItemError when the table already describes a newer version of the source */
  putItem(item: MetadataItem): Promise<void>;
  /**
   * Writes a DELETED item under the same ordering rule as putItem and returns the item it replaced.
   * Needed for removals (remove-record.ts) only.
   * @throws NewerItemError
   */
  markDeleted?(item: MetadataItem): Promise<MetadataItem | undefined>;
  /** Deletes objects; keys that do not exist are no error. Needed for removals, and with moderation on. */
  deleteObjects?(bucket: string, keys: readonly string[]): Promise<void>;
  /** Rekognition; needed only when the settings switch labels or moderation on. */
  contentAnalysis?: ContentAnalysisPort;
}

/** The object is gone (deleted after the event, or never there). */
export class ObjectNotFoundError extends Error {
  constructor(message = 'The object does not exist.') {
    super(message);
    this.name = 'ObjectNotFoundError';
  }
}

/** The object was replaced after this event: the replacement's own event will process it. */
export class SourceChangedError extends Error {
  constructor(message = 'The object was replaced after this event.') {
    super(message);
    this.name = 'SourceChangedError';
  }
}

/**
 * The function may not read the object (403). Possibly passing (a role or KMS grant not yet propagated), so the
 * invocation still fails and Lambda retries it; a FAILED item records it meanwhile.
 */
export class ReadDeniedError extends Error {
  constructor(message = 'Access to the object was denied.') {
    super(message);
    this.name = 'ReadDeniedError';
  }
}

/** The table already holds an item for a newer version of the source. */
export class NewerItemError extends Error {
  constructor(message = 'A newer version of the object has already been recorded.') {
    super(message);
    this.name = 'NewerItemError';
  }
}

export type RecordStatus = 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'DELETED';

export interface RecordResult {
  status: RecordStatus;
  bucket: string;
  key: string;
  imageId: string | undefined;
  /** Why a record was skipped. */
  reason?: string;
  errorCode?: ImageErrorCode;
  errorMessage?: string;
  outputs?: string[];
  durationMs: number;
  /** The item the record ended with (SUCCEEDED, FAILED, DELETED): what the notification describes. */
  item?: MetadataItem;
}

/** Why a record must not be processed (the function's own output, a folder marker, not a creation), if so. */
export function skipReason(record: S3ObjectRecord, settings: Pick<FunctionSettings, 'destBucket' | 'sourceBucket'>): string | undefined {
  if (record.eventName !== undefined && !record.eventName.startsWith('ObjectCreated')) {
    return `event ${record.eventName} is not an object creation`;
  }
  if (record.key.endsWith('/')) return 'a folder marker, not a file';
  if (record.bucket === settings.destBucket) {
    if (settings.sourceBucket !== settings.destBucket) {
      return `the object is in the destination bucket ${settings.destBucket}; processing it could loop${
        settings.sourceBucket === undefined ? ' (set SOURCE_BUCKET to the same name if source and destination are one bucket)' : ''
      }`;
    }
    if (isOutputKey(record.key)) return 'the object is one of the function\'s own outputs';
  }
  return undefined;
}

/**
 * Processes one S3 record: reads the object, resizes it to every size, writes the outputs and then one metadata
 * item. Permanent problems with the image become a FAILED item and a normal return; everything else (the
 * infrastructure failing) is thrown so Lambda retries the event, which is safe because every write is keyed by
 * the source and rewrites the same objects and item.
 */
export async function processRecord(
  record: S3ObjectRecord,
  settings: FunctionSettings,
  ports: RecordPorts,
  clock: () => number = Date.now,
  repairing = false,
): Promise<RecordResult> {
  const startedAt = clock();
  const base = { bucket: record.bucket, key: record.key };
  const elapsed = (): number => Math.max(0, Math.round(clock() - startedAt));
  const skip = skipReason(record, settings);
  if (skip !== undefined) return { ...base, status: 'SKIPPED', imageId: undefined, reason: skip, durationMs: elapsed() };

  const imageId = imageIdFor(record.bucket, record.key);
  const source: SourceDescription = {
    imageId,
    bucket: record.bucket,
    key: record.key,
    destBucket: settings.destBucket,
    sequencer: record.sequencer === undefined ? undefined : storedSequencer(record.sequencer),
  };
  const known: { bytes?: number } = {};

  const superseded = (why: string): RecordResult => ({ ...base, status: 'SKIPPED', imageId, reason: `superseded: ${why}`, durationMs: elapsed() });
  const fail = async (error: ImageError, extra: Partial<MetadataItem> = {}): Promise<RecordResult> => {
    const item = { ...failedItem(source, error, { startedAt, finishedAt: clock() }, { ...error.source, ...known }), ...extra };
    try {
      await ports.putItem(item);
    } catch (putError) {
      if (putError instanceof NewerItemError) return superseded(putError.message);
      throw putError;
    }
    return { ...base, status: 'FAILED', imageId, errorCode: error.code, errorMessage: error.message, durationMs: elapsed(), item };
  };

  let object: SourceObject;
  try {
    // Only the version the event announced: an older event for a replaced object must not redo the newer one.
    object = await ports.getObject(record.bucket, record.key, { ifMatch: record.eTag });
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return fail(new ImageError('NOT_FOUND', `s3://${record.bucket}/${record.key} does not exist (deleted after the upload?).`));
    if (error instanceof SourceChangedError) return superseded(error.message);
    if (error instanceof ReadDeniedError) {
      // Recorded for operators (best effort), then thrown: a grant may yet arrive, and a retry that succeeds
      // replaces this item.
      await fail(new ImageError('ACCESS_DENIED', error.message)).catch(() => undefined);
    }
    throw error;
  }
  source.lastModified = object.lastModified;
  source.eTag = object.eTag ?? record.eTag;
  if (object.contentLength !== undefined) known.bytes = object.contentLength;
  if (object.contentLength !== undefined && object.contentLength > settings.maxBytes) {
    object.discard();
    return fail(new ImageError('TOO_LARGE', `The object has ${object.contentLength} bytes; the limit (MAX_BYTES) is ${settings.maxBytes}.`));
  }
  const body = await object.read();
  known.bytes = body.length;

  let processed;
  try {
    processed = await processImage(body, {
      sizes: settings.sizes,
      format: settings.format,
      fit: settings.fit,
      maxPixels: settings.maxPixels,
      maxBytes: settings.maxBytes,
      allowUpscale: settings.allowUpscale,
      quality: settings.quality,
      background: settings.background,
    });
  } catch (error) {
    if (error instanceof ImageError) return fail(error);
    throw error;
  }
  const { original } = processed;
  // Before any write: a moderated image leaves no output behind, and a transient Rekognition error retries
  // the invocation with nothing written yet.
  const [insight, analysis] = await Promise.all([
    // Best effort: it reads back an output just encoded, and an image must not fail for want of a placeholder.
    insightFromOutputs(processed.outputs).catch(() => undefined),
    settings.labels || settings.moderation
      ? analyseContent(processed.outputs, settings, requireContentAnalysis(ports))
      : Promise.resolve<ContentAnalysis>({}),
  ]);
  if (analysis.moderationLabels) {
    // Outputs at these keys are an earlier version's (this one writes none): they go too, so nothing of an
    // object whose current version was rejected stays served.
    await requireDeleteObjects(ports)(
      settings.destBucket,
      processed.outputs.map((output) => outputKeyFor(record.key, output.size, settings.sizes.length, output.format, original.format)),
    );
    const names = analysis.moderationLabels.map((label) => `${label.Name} (${label.Confidence.toFixed(1)}%)`).join(', ');
    const moderated = await fail(
      new ImageError('MODERATED', `Rejected by moderation: ${names}; no output was written.`, { source: original }),
      analysisAttributes(analysis),
    );
    // Refused as older than the stored item: the outputs just deleted may have been the newer version's. As for
    // a refused SUCCEEDED write below, process whatever the object is now, once, so outputs and item agree.
    if (moderated.status !== 'SKIPPED' || repairing || record.eTag === undefined) return moderated;
    const repaired = await processRecord({ ...record, eTag: undefined }, settings, ports, clock, true);
    return repaired.status === 'SKIPPED' ? moderated : repaired;
  }
  const outputs = processed.outputs.map((output) => ({
    ...output,
    key: outputKeyFor(record.key, output.size, settings.sizes.length, output.format, original.format),
  }));
  await Promise.all(
    outputs.map((output) =>
      ports.putObject({
        bucket: settings.destBucket,
        key: output.key,
        body: output.body,
        contentType: output.contentType,
        cacheControl: settings.cacheControl,
      }),
    ),
  );
  // The item last: whoever sees SUCCEEDED can fetch every output.
  const item: MetadataItem = {
    ...succeededItem(source, original, outputs, { startedAt, finishedAt: clock() }, settings.cdnBaseUrl),
    ...(insight ? insightAttributes(insight) : {}),
    ...analysisAttributes(analysis),
  };
  try {
    await ports.putItem(item);
  } catch (error) {
    if (!(error instanceof NewerItemError)) throw error;
    // A newer upload was recorded while this one was processed, and its outputs may have just been overwritten
    // with this older version's. Process whatever the object is now, once, so outputs and item agree again.
    if (repairing || record.eTag === undefined) return superseded(error.message);
    const repaired = await processRecord({ ...record, eTag: undefined }, settings, ports, clock, true);
    if (repaired.status !== 'SKIPPED') return repaired;
    // The newer event may be a removal: then nothing is left to repair from, and the outputs just written
    // belong to no source.
    if (ports.deleteObjects && (await sourceIsGone(record, ports))) {
      await ports.deleteObjects(settings.destBucket, outputs.map((output) => output.key));
    }
    return superseded(error.message);
  }
  return { ...base, status: 'SUCCEEDED', imageId, outputs: outputs.map((output) => output.key), durationMs: elapsed(), item };
}

/** Whether the source object no longer exists (any version). */
export async function sourceIsGone(record: Pick<S3ObjectRecord, 'bucket' | 'key'>, ports: Pick<RecordPorts, 'getObject'>): Promise<boolean> {
  try {
    (await ports.getObject(record.bucket, record.key, {})).discard();
    return false;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return true;
    throw error;
  }
}

function requireContentAnalysis(ports: RecordPorts): ContentAnalysisPort {
  if (!ports.contentAnalysis) throw new Error('LABELS or MODERATION is on, but the function has no Rekognition port.');
  return ports.contentAnalysis;
}

function requireDeleteObjects(ports: RecordPorts): (bucket: string, keys: readonly string[]) => Promise<void> {
  if (!ports.deleteObjects) throw new Error('MODERATION is on, but the function has no way to delete outputs.');
  return ports.deleteObjects.bind(ports);
}
