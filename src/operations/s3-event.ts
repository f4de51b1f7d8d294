import { randomBytes } from 'node:crypto';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import { loadTemplate, renderTemplate } from '../provision/templates.js';

export interface S3EventObject {
  key: string;
  bytes: number;
  /** Without quotes. */
  eTag: string;
}

export interface S3EventContext {
  bucket: string;
  region: string;
  partition: string;
  /** Shown as the requester and configuration, so a synthesized record is recognisable in the function's logs. */
  principalId: string;
  configurationId: string;
  now?: Date;
  /** The sequencer to send instead of the clock's: `tune` re-sends the one of the event that made the item. */
  sequencer?: string;
}

/** The record S3 sends for ObjectCreated:Put (event structure version 2.1), as documented by AWS. */
export interface S3EventRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size: number; eTag: string; sequencer: string };
  };
}

export interface S3Event {
  Records: S3EventRecord[];
}

/**
 * An S3 ObjectCreated:Put notification for an object that already exists, rendered from templates/s3-event.json
 * (S3's documented event structure 2.1) with the key form-encoded as S3 encodes it (space as "+"), so the
 * function cannot tell it from a real upload.
 */
export function synthesizeS3Event(object: S3EventObject, context: S3EventContext): S3Event {
  const now = context.now ?? new Date();
  return renderTemplate(loadTemplate('s3-event.json'), {
    region: context.region,
    eventTime: now.toISOString(),
    eventName: 'ObjectCreated:Put',
    principalId: context.principalId,
    requestId: randomBytes(8).toString('hex').toUpperCase(),
    configurationId: context.configurationId,
    bucket: context.bucket,
    partition: context.partition,
    key: encodeS3EventKey(object.key),
    size: object.bytes,
    eTag: object.eTag,
    // S3's sequencer orders the events of one key; a hex timestamp does the same for ours.
    sequencer: context.sequencer ?? (now.getTime() * 1000).toString(16).toUpperCase().padStart(16, '0'),
  }) as unknown as S3Event;
}

/**
 * Workflow mode: EventBridge's "Object Created" event for an object that already exists, the shape the rule
 * starts executions with (the key as uploaded, not form-encoded). The requester names the backfill, so the
 * function orders its item by Last-Modified rather than by a sequencer (lambda-src/core/workflow.ts).
 */
export function synthesizeObjectCreatedEvent(object: S3EventObject, context: Omit<S3EventContext, 'configurationId'> & { account: string }) {
  const now = context.now ?? new Date();
  return {
    version: '0',
    id: randomBytes(16).toString('hex'),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: context.account,
    time: now.toISOString(),
    region: context.region,
    resources: [`arn:${context.partition}:s3:::${context.bucket}`],
    detail: {
      version: '0',
      bucket: { name: context.bucket },
      object: { key: object.key, size: object.bytes, etag: object.eTag },
      'request-id': randomBytes(8).toString('hex').toUpperCase(),
      requester: context.principalId,
      reason: 'PutObject',
    },
  };
}
