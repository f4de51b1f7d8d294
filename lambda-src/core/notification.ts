import type { MetadataItem, OutputRecord } from './metadata.js';

/**
 * The message the function publishes to the stack's topic after each record it processed, removed or failed.
 * Versioned: fields may be added within a version; a change that removes or retypes one raises
 * `schemaVersion`, so subscribers can check it.
 */
export const NOTIFICATION_SCHEMA_VERSION = 1;

export const NOTIFICATION_TYPES = ['image.processed', 'image.failed', 'image.deleted'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface NotificationOutput {
  key: string;
  /** The size's name from the size spec. */
  size: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
  /** The output's CDN URL, when the stack has a CDN (the item's `Url`). */
  url?: string;
}

export interface ImageNotification {
  schemaVersion: typeof NOTIFICATION_SCHEMA_VERSION;
  type: NotificationType;
  /** `s3://{bucket}/{key}`, the metadata item's key. */
  imageId: string;
  source: { bucket: string; key: string; eTag?: string; sequencer?: string };
  destinationBucket: string;
  status: MetadataItem['Status'];
  /** FAILED only. */
  errorCode?: string;
  errorMessage?: string;
  /** As far as known (absent for a deletion). */
  original?: { format?: string; width?: number; height?: number; bytes?: number };
  /** Empty unless SUCCEEDED. */
  outputs: NotificationOutput[];
  processingTimeMs: number;
  /** When the record finished (ISO 8601), the item's ProcessedAt. */
  time: string;
}

/** SNS message attributes: all String, and only present when they have a value (SNS rejects empty ones). */
export type NotificationAttributes = Partial<Record<'type' | 'status' | 'errorCode' | 'format' | 'sourcePrefix', string>>;

const TYPE_OF_STATUS: Record<MetadataItem['Status'], NotificationType> = {
  SUCCEEDED: 'image.processed',
  FAILED: 'image.failed',
  DELETED: 'image.deleted',
};

function output(record: OutputRecord): NotificationOutput {
  return {
    key: record.Key,
    size: record.Size,
    width: record.Width,
    height: record.Height,
    bytes: record.Bytes,
    format: record.Format,
    ...(record.Url === undefined ? {} : { url: record.Url }),
  };
}

/** The notification of the item a record ended with. */
export function notificationFor(item: MetadataItem): ImageNotification {
  const original = {
    ...(item.OriginalFormat === undefined ? {} : { format: item.OriginalFormat }),
    ...(item.OriginalWidth === undefined ? {} : { width: item.OriginalWidth }),
    ...(item.OriginalHeight === undefined ? {} : { height: item.OriginalHeight }),
    ...(item.OriginalBytes === undefined ? {} : { bytes: item.OriginalBytes }),
  };
  return {
    schemaVersion: NOTIFICATION_SCHEMA_VERSION,
    type: TYPE_OF_STATUS[item.Status],
    imageId: item.ImageID,
    source: {
      bucket: item.SourceBucket,
      key: item.OriginalFile,
      ...(item.SourceETag === undefined ? {} : { eTag: item.SourceETag }),
      ...(item.Sequencer === undefined ? {} : { sequencer: item.Sequencer }),
    },
    destinationBucket: item.Bucket,
    status: item.Status,
    ...(item.ErrorCode === undefined ? {} : { errorCode: item.ErrorCode }),
    ...(item.ErrorMessage === undefined ? {} : { errorMessage: item.ErrorMessage }),
    ...(Object.keys(original).length > 0 ? { original } : {}),
    outputs: item.Outputs.map(output),
    processingTimeMs: item.DurationMs,
    time: item.ProcessedAt,
  };
}

/**
 * The key's first path segment (`photos` for `photos/2024/cat.jpg`), or undefined for a key at the bucket's
 * root: SNS refuses an empty attribute value, so root keys carry no `sourcePrefix` (filter them with
 * `{"sourcePrefix": [{"exists": false}]}`).
 */
export function sourcePrefixOf(key: string): string | undefined {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : undefined;
}

/** The attributes subscribers' filter policies match on. `format` is the outputs' format (SUCCEEDED only). */
export function notificationAttributes(notification: ImageNotification): NotificationAttributes {
  const prefix = sourcePrefixOf(notification.source.key);
  const format = notification.outputs[0]?.format;
  return {
    type: notification.type,
    status: notification.status,
    ...(notification.errorCode === undefined ? {} : { errorCode: notification.errorCode }),
    ...(format === undefined ? {} : { format }),
    ...(prefix === undefined ? {} : { sourcePrefix: prefix }),
  };
}

/** The SNS publish parameters (all but the topic) of a notification: the direct path publishes them, the workflow's Notify state too. */
export interface SnsNotificationMessage {
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, { DataType: 'String'; StringValue: string }>;
}

export function snsNotificationMessage(notification: ImageNotification): SnsNotificationMessage {
  const attributes: SnsNotificationMessage['MessageAttributes'] = {};
  for (const [name, value] of Object.entries(notificationAttributes(notification))) {
    attributes[name] = { DataType: 'String', StringValue: value };
  }
  return { Subject: `${notification.type} ${notification.status}`, Message: JSON.stringify(notification), MessageAttributes: attributes };
}
