import { decodeS3EventKey } from './keys.js';

/** One object an S3 notification names, with its key decoded. */
export interface S3ObjectRecord {
  bucket: string;
  /** As the event carries it (form-encoded). */
  rawKey: string;
  key: string;
  eventName: string | undefined;
  size: number | undefined;
  /** Without quotes. */
  eTag: string | undefined;
  sequencer: string | undefined;
}

export interface ParsedEvent {
  records: S3ObjectRecord[];
  /** Why parts of the event were not records to process (test events, other sources, malformed records). */
  ignored: string[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the S3 records out of whatever the function was invoked with. The s3:TestEvent S3 sends when a
 * notification is configured, and any other shape, yield no records and a reason, never an exception: failing
 * would only make Lambda retry an event that can never succeed.
 */
export function parseS3Event(event: unknown): ParsedEvent {
  if (!isObject(event)) return { records: [], ignored: ['the event is not an object'] };
  if (event.Event === 's3:TestEvent') return { records: [], ignored: ['s3:TestEvent'] };
  if (!Array.isArray(event.Records)) return { records: [], ignored: ['the event has no Records list (not an S3 notification)'] };
  const records: S3ObjectRecord[] = [];
  const ignored: string[] = [];
  event.Records.forEach((record: unknown, index) => {
    const parsed = isObject(record) ? parseRecord(record) : 'not an object';
    if (typeof parsed === 'string') ignored.push(`record ${index}: ${parsed}`);
    else records.push(parsed);
  });
  return { records, ignored };
}

function parseRecord(record: Json): S3ObjectRecord | string {
  if (record.eventSource !== 'aws:s3') return `event source ${JSON.stringify(record.eventSource)} is not aws:s3`;
  const s3 = record.s3;
  if (!isObject(s3) || !isObject(s3.bucket) || !isObject(s3.object)) return 'no s3.bucket or s3.object';
  const bucket = s3.bucket.name;
  const rawKey = s3.object.key;
  if (typeof bucket !== 'string' || bucket === '' || typeof rawKey !== 'string' || rawKey === '') return 'no bucket name or object key';
  const { size, eTag, sequencer } = s3.object;
  return {
    bucket,
    rawKey,
    key: decodeS3EventKey(rawKey),
    eventName: typeof record.eventName === 'string' ? record.eventName : undefined,
    size: typeof size === 'number' ? size : undefined,
    eTag: typeof eTag === 'string' && eTag !== '' ? eTag.replace(/"/g, '') : undefined,
    sequencer: typeof sequencer === 'string' ? sequencer : undefined,
  };
}
