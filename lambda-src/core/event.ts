import { decodeS3EventKey } from './keys.js';
import { isSequencer } from './sequencer.js';

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
  /** S3's, as sent; undefined for events that carry none comparable with S3's (see parseRecord). */
  sequencer: string | undefined;
}

export interface ParsedEvent {
  records: S3ObjectRecord[];
  /** Why parts of the event were not records to process (test events, other sources, malformed records). */
  ignored: string[];
}

type Json = Record<string, unknown>;

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
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
  // The backfill synthesizes events with a clock-based sequencer, which does not compare with S3's own: its
  // events count as having none (see write-condition.ts for how those are ordered).
  const synthesized = isObject(record.userIdentity) && record.userIdentity.principalId === SYNTHESIZED_EVENT_PRINCIPAL;
  return {
    bucket,
    rawKey,
    key: decodeS3EventKey(rawKey),
    eventName: typeof record.eventName === 'string' ? record.eventName : undefined,
    size: typeof size === 'number' ? size : undefined,
    eTag: typeof eTag === 'string' && eTag !== '' ? eTag.replace(/"/g, '') : undefined,
    sequencer: !synthesized && typeof sequencer === 'string' && isSequencer(sequencer) ? sequencer : undefined,
  };
}

/** The principal the CLI's backfill puts in the events it synthesizes (src/operations/backfill.ts). */
export const SYNTHESIZED_EVENT_PRINCIPAL = 'img-resizer-backfill';

/** Whether a record announces a removal (a delete, or a delete marker in a versioned bucket). */
export function isRemoval(record: Pick<S3ObjectRecord, 'eventName'>): boolean {
  return record.eventName?.startsWith('ObjectRemoved:') ?? false;
}

/** One unit of work of an invocation: an SQS message (with its id, for partial batch failures) or the whole event. */
export interface InvocationPart extends ParsedEvent {
  /** The SQS message id, when the part is an SQS message. */
  messageId?: string;
}

export interface ParsedInvocation {
  /** How the S3 notifications arrived. */
  source: 's3' | 'sqs' | 'sns';
  parts: InvocationPart[];
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads an invocation: S3 notifications sent to the function directly (or an original S3 event re-sent by a
 * redrive), wrapped in SQS messages (a queue subscribed to the bucket, or to a topic with raw delivery), or in
 * SNS notifications (the function subscribed to a topic). An SQS message whose body is not an S3 notification
 * (S3's TestEvent among them) yields no records and a reason: retrying it could never help.
 */
export function parseInvocation(event: unknown): ParsedInvocation {
  const records = isObject(event) && Array.isArray(event.Records) ? (event.Records as unknown[]) : [];
  const first = records[0];
  if (isObject(first) && first.eventSource === 'aws:sqs') {
    return {
      source: 'sqs',
      parts: records.map((record, index) => {
        const message = isObject(record) ? record : {};
        const messageId = typeof message.messageId === 'string' ? message.messageId : `#${index}`;
        const body = parseJson(message.body);
        // A queue subscribed to a topic without raw delivery gets the SNS envelope as the body.
        const inner = isObject(body) && body.Type === 'Notification' ? parseJson(body.Message) : body;
        const parsed = inner === undefined ? { records: [], ignored: ['the body is not JSON'] } : parseS3Event(inner);
        return { messageId, records: parsed.records, ignored: parsed.ignored.map((reason) => `message ${messageId}: ${reason}`) };
      }),
    };
  }
  if (isObject(first) && first.EventSource === 'aws:sns') {
    return {
      source: 'sns',
      parts: records.map((record, index) => {
        const sns = isObject(record) && isObject(record.Sns) ? record.Sns : {};
        const inner = parseJson(sns.Message);
        const parsed = inner === undefined ? { records: [], ignored: ['the message is not JSON'] } : parseS3Event(inner);
        return { records: parsed.records, ignored: parsed.ignored.map((reason) => `notification ${index}: ${reason}`) };
      }),
    };
  }
  return { source: 's3', parts: [parseS3Event(event)] };
}
