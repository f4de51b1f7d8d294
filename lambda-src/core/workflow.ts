import type { MetadataItem } from './metadata.js';
import { notificationFor, snsNotificationMessage, type SnsNotificationMessage } from './notification.js';
import { processRecord, type RecordPorts, type RecordResult } from './process-record.js';
import { isSequencer } from './sequencer.js';
import type { FunctionSettings } from './settings.js';
import { itemWriteCondition, type ItemWriteCondition } from './write-condition.js';
import { isObject, parseS3Event, SYNTHESIZED_EVENT_PRINCIPAL, type S3ObjectRecord } from './event.js';

/**
 * Workflow mode (Step Functions): the state machine's Resize state invokes the function with
 * `{ "workflow": "resize", "event": <the execution's input> }`. The function then resizes and writes the outputs
 * exactly as the direct path does (processRecord), but returns the metadata item instead of writing it: the
 * Record state writes it with the same condition, and Notify publishes the notification.
 */
export const WORKFLOW_RESIZE = 'resize';

/** The Resize state's payload. */
export interface WorkflowInvocation {
  workflow: typeof WORKFLOW_RESIZE;
  /** The execution's input: EventBridge's "Object Created" event, or an S3 notification with one record. */
  event: unknown;
}

/** Whether an invocation comes from the state machine's Resize state. */
export function isWorkflowInvocation(event: unknown): event is WorkflowInvocation {
  return isObject(event) && event.workflow === WORKFLOW_RESIZE;
}

/** A typed error: the execution fails (no retry helps) and the Catch sends it to the dead-letter queue. */
export class WorkflowInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowInputError';
  }
}

/**
 * Reads the one object an execution is about, from EventBridge's "Object Created" event (what the rule starts
 * executions with, and what the backfill synthesizes in workflow mode) or from an S3 notification with one record.
 * EventBridge carries the key as uploaded (S3 notifications form-encode it); both become the decoded key.
 */
export function parseWorkflowEvent(event: unknown): S3ObjectRecord {
  if (isObject(event) && event.source === 'aws.s3' && isObject(event.detail)) {
    if (event['detail-type'] !== 'Object Created') {
      throw new WorkflowInputError(`The event is "${String(event['detail-type'])}", not "Object Created".`);
    }
    const { bucket, object } = event.detail;
    const name = isObject(bucket) ? bucket.name : undefined;
    const key = isObject(object) ? object.key : undefined;
    if (typeof name !== 'string' || name === '' || typeof key !== 'string' || key === '' || !isObject(object)) {
      throw new WorkflowInputError('The event has no detail.bucket.name or detail.object.key.');
    }
    const synthesized = event.detail.requester === SYNTHESIZED_EVENT_PRINCIPAL;
    const { size, etag, sequencer } = object;
    return {
      bucket: name,
      rawKey: key,
      key,
      eventName: `ObjectCreated:${typeof event.detail.reason === 'string' ? event.detail.reason : 'Put'}`,
      size: typeof size === 'number' ? size : undefined,
      eTag: typeof etag === 'string' && etag !== '' ? etag.replace(/"/g, '') : undefined,
      // Comparable with S3's own only when S3 sent it (see event.ts); "0" is no sequencer at all.
      sequencer: !synthesized && typeof sequencer === 'string' && isSequencer(sequencer) && /[1-9a-f]/i.test(sequencer) ? sequencer : undefined,
    };
  }
  const parsed = parseS3Event(event);
  const [record, ...rest] = parsed.records;
  if (record === undefined) throw new WorkflowInputError(`No S3 record in the event: ${parsed.ignored.join('; ') || 'unknown shape'}.`);
  if (rest.length > 0) throw new WorkflowInputError(`An execution handles one object; the event has ${parsed.records.length} records.`);
  return record;
}

/** DynamoDB's JSON (AttributeValue) form of an item: what the Record state's dynamodb:putItem takes. */
export type AttributeMap = Record<string, unknown>;

/** What the Resize state returns: everything Record and Notify need, already in their services' shapes. */
export interface WorkflowResizeResult {
  outcome: RecordResult['status'];
  imageId: string | undefined;
  bucket: string;
  key: string;
  reason?: string;
  errorCode?: string;
  outputs?: string[];
  durationMs: number;
  /** SUCCEEDED and FAILED: the item to write, in DynamoDB JSON. */
  item?: AttributeMap;
  /**
   * The write's condition (write-condition.ts, the one the direct path uses), values in DynamoDB JSON.
   * `hasValues` tells the state machine's Choice which Record state can pass them (DynamoDB rejects an empty map).
   */
  write?: Omit<ItemWriteCondition, 'ExpressionAttributeValues'> & { ExpressionAttributeValues?: AttributeMap; hasValues: boolean };
  /** The SNS message (sns:publish parameters) describing the outcome. */
  notification?: SnsNotificationMessage;
}

/** Converts the item to DynamoDB JSON; injected so the core stays free of SDK imports. */
export type Marshal = (value: Record<string, unknown>) => AttributeMap;

/**
 * The Resize state's work: processRecord with an item writer that keeps the item instead of writing it. Image
 * errors come back as a FAILED item (Record writes it); infrastructure errors throw, so the state's Retry runs.
 */
export async function resizeForWorkflow(
  event: unknown,
  settings: FunctionSettings,
  ports: Omit<RecordPorts, 'putItem' | 'markDeleted'>,
  marshal: Marshal,
  clock: () => number = Date.now,
): Promise<WorkflowResizeResult> {
  const record = parseWorkflowEvent(event);
  const kept: { item?: MetadataItem } = {};
  const itemWriter: RecordPorts = {
    getObject: (bucket, key, options) => ports.getObject(bucket, key, options),
    putObject: (request) => ports.putObject(request),
    putItem: (item) => {
      kept.item = item;
      return Promise.resolve();
    },
    // Labels and moderation (Rekognition; moderation deletes a flagged image's outputs) work as on the direct path.
    ...(ports.contentAnalysis ? { contentAnalysis: ports.contentAnalysis } : {}),
    ...(ports.deleteObjects ? { deleteObjects: ports.deleteObjects.bind(ports) } : {}),
  };
  const result = await processRecord(record, settings, itemWriter, clock);
  const { item: _unused, status, ...rest } = result;
  const summary: WorkflowResizeResult = {
    outcome: status,
    imageId: rest.imageId,
    bucket: rest.bucket,
    key: rest.key,
    durationMs: rest.durationMs,
    ...(rest.reason === undefined ? {} : { reason: rest.reason }),
    ...(rest.errorCode === undefined ? {} : { errorCode: rest.errorCode }),
    ...(rest.outputs === undefined ? {} : { outputs: rest.outputs }),
  };
  const item = status === 'SKIPPED' ? undefined : kept.item;
  if (item === undefined) return summary;
  const condition = itemWriteCondition(item);
  return {
    ...summary,
    item: marshal(item as unknown as Record<string, unknown>),
    write: {
      ConditionExpression: condition.ConditionExpression,
      ExpressionAttributeNames: condition.ExpressionAttributeNames,
      ...(condition.ExpressionAttributeValues === undefined ? {} : { ExpressionAttributeValues: marshal(condition.ExpressionAttributeValues) }),
      hasValues: condition.ExpressionAttributeValues !== undefined,
    },
    notification: snsNotificationMessage(notificationFor(item)),
  };
}
