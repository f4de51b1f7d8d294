import type { EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import pRetry from 'p-retry';
import { createQueueMapping, deleteQueueMapping, listQueueMappings, updateQueueMapping, type QueueMappingSpec } from '../aws/event-source-mapping.js';
import { IAM_PROPAGATION_RETRY } from '../aws/lambda.js';
import { createQueue, deleteQueue, setQueueAttributes } from '../aws/sqs.js';
import { DEFAULT_QUEUE_MAX_CONCURRENCY } from '../config/settings.js';
import { awsErrorName, errorMessage } from '../errors.js';
import { observeFailedEventsQueue, queueDepth, type ObservedQueue } from './failed-events-queue.js';
import type { StackModel } from './stack.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type Step } from './types.js';

/**
 * The backfill queue (issue 18): `backfill --via queue` fills it with S3-shaped events and the function consumes
 * it through an event source mapping, so a bucket of any size is worked through at a bounded concurrency, with
 * Lambda's retries and the dead-letter queue for what keeps failing.
 */

/** Receives of one message before SQS moves it to the stack's failed-events queue (a poison image, a lost grant). */
export const BACKFILL_MAX_RECEIVE_COUNT = 3;
/** AWS's guidance for a queue a function consumes: a visibility timeout of at least six times the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * Messages per invocation. The function handles a batch's records one after another, so five large photos stay
 * well inside the default 60 s timeout while the per-invocation overhead is shared; each message is one object,
 * and ReportBatchItemFailures returns only the failed ones to the queue.
 */
export const BACKFILL_BATCH_SIZE = 5;
/** SQS keeps a message up to 14 days: a backlog that large still loses nothing. */
const BACKFILL_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** SSE-SQS, the visibility timeout for the function's timeout, the redrive policy to the failed-events queue. */
export function desiredBackfillQueueAttributes(stack: Pick<StackModel, 'settings' | 'failedEventsQueueArn'>): Record<string, string> {
  return {
    SqsManagedSseEnabled: 'true',
    VisibilityTimeout: String(VISIBILITY_TIMEOUT_FACTOR * stack.settings.timeout),
    MessageRetentionPeriod: String(BACKFILL_RETENTION_SECONDS),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: stack.failedEventsQueueArn, maxReceiveCount: BACKFILL_MAX_RECEIVE_COUNT }),
  };
}

export type BackfillQueueOp =
  | { kind: 'create-backfill-queue'; visibilitySeconds: number; maxReceiveCount: number }
  | { kind: 'set-backfill-queue-attributes'; changes: { name: string; from: string | undefined; to: string }[] };

export interface BackfillQueueRemovalOp { kind: 'delete-backfill-queue'; messages: number }

/** Equal as SQS means it: the redrive policy is JSON whose count may come back as a number or a string. */
function sameAttribute(name: string, observed: string | undefined, desired: string): boolean {
  if (observed === desired) return true;
  if (name !== 'RedrivePolicy' || observed === undefined) return false;
  try {
    const [a, b] = [JSON.parse(observed) as Record<string, unknown>, JSON.parse(desired) as Record<string, unknown>];
    return a.deadLetterTargetArn === b.deadLetterTargetArn && Number(a.maxReceiveCount) === Number(b.maxReceiveCount);
  } catch {
    return false;
  }
}

export function planBackfillQueue(desired: Record<string, string>, observed: ObservedQueue | undefined): Plan<BackfillQueueOp> {
  if (!observed) {
    return {
      action: 'create',
      reason: 'does not exist',
      ops: [{ kind: 'create-backfill-queue', visibilitySeconds: Number(desired.VisibilityTimeout), maxReceiveCount: BACKFILL_MAX_RECEIVE_COUNT }],
    };
  }
  const changes = Object.entries(desired)
    // A queue encrypted with a KMS key of the operator's choosing is encrypted too: leave it so.
    .filter(([name]) => !(name === 'SqsManagedSseEnabled' && observed.attributes.KmsMasterKeyId))
    .filter(([name, value]) => !sameAttribute(name, observed.attributes[name], value))
    .map(([name, to]) => ({ name, from: observed.attributes[name], to }));
  return opsPlan(
    changes.length > 0 ? [{ kind: 'set-backfill-queue-attributes', changes }] : [],
    `encrypted (SSE-SQS), visibility ${desired.VisibilityTimeout} s, after ${BACKFILL_MAX_RECEIVE_COUNT} receives to the failed-events queue`,
  );
}

export const backfillQueueStep: Step<ObservedQueue | undefined, BackfillQueueOp> = {
  id: 'backfill-queue',
  resource: 'Backfill queue',
  name: (context) => context.stack.backfillQueueName,
  observe: (context) => observeFailedEventsQueue(context.clients.sqs, context.stack.backfillQueueName),
  plan: (context, observed) => planBackfillQueue(desiredBackfillQueueAttributes(context.stack), observed),
  async apply(context, observed, plan, _inputs, progress) {
    const { sqs } = context.clients;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-backfill-queue':
          progress('creating');
          await createQueue(sqs, context.stack.backfillQueueName, desiredBackfillQueueAttributes(context.stack), context.stack.tags);
          break;
        case 'set-backfill-queue-attributes':
          if (observed) await setQueueAttributes(sqs, observed.url, Object.fromEntries(op.changes.map((c) => [c.name, c.to])));
          break;
      }
    }
    return undefined;
  },
};

export const backfillQueueRemovalStep: Step<ObservedQueue | undefined, BackfillQueueRemovalOp> = {
  id: 'backfill-queue',
  resource: 'Backfill queue',
  name: (context) => context.stack.backfillQueueName,
  observe: (context) => observeFailedEventsQueue(context.clients.sqs, context.stack.backfillQueueName),
  plan: (_context, observed): Plan<BackfillQueueRemovalOp> =>
    observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-backfill-queue', messages: queueDepth(observed) }] } : noop('already gone'),
  async apply(context, observed) {
    if (observed) await deleteQueue(context.clients.sqs, observed.url);
    return undefined;
  },
};

// ---------------------------------------------------------------------------------------------------
// The event source mapping: the queue → the function.

export function desiredQueueMapping(context: ProvisionContext): QueueMappingSpec {
  return queueMappingSpec(context.stack);
}

/** The mapping for a stack model (export renders it too, from the same values). */
export function queueMappingSpec(stack: Pick<StackModel, 'settings' | 'backfillQueueArn'>): QueueMappingSpec {
  const { settings } = stack;
  return {
    functionName: settings.functionName,
    queueArn: stack.backfillQueueArn,
    batchSize: BACKFILL_BATCH_SIZE,
    maximumConcurrency: settings.queueMaxConcurrency ?? DEFAULT_QUEUE_MAX_CONCURRENCY,
    reportBatchItemFailures: true,
  };
}

export type QueueMappingOp =
  | { kind: 'create-queue-mapping'; batchSize: number; maximumConcurrency: number }
  | { kind: 'update-queue-mapping'; uuid: string; changes: { field: string; from: string; to: string }[] }
  /** Several mappings from the queue to the function (a manual setup): one is enough. */
  | { kind: 'delete-extra-queue-mapping'; uuid: string };

export interface QueueMappingRemovalOp { kind: 'delete-queue-mapping'; uuid: string }

function mappingDifferences(desired: QueueMappingSpec, actual: EventSourceMappingConfiguration): { field: string; from: string; to: string }[] {
  const have = {
    'batch size': String(actual.BatchSize ?? 10),
    'maximum concurrency': String(actual.ScalingConfig?.MaximumConcurrency ?? 'none'),
    'response types': (actual.FunctionResponseTypes ?? []).join(',') || 'none',
    state: actual.State === 'Disabled' || actual.State === 'Disabling' ? 'Disabled' : 'Enabled',
  };
  const want = {
    'batch size': String(desired.batchSize),
    'maximum concurrency': String(desired.maximumConcurrency),
    'response types': desired.reportBatchItemFailures ? 'ReportBatchItemFailures' : 'none',
    state: 'Enabled',
  };
  return (Object.keys(want) as (keyof typeof want)[]).filter((field) => have[field] !== want[field]).map((field) => ({ field, from: have[field], to: want[field] }));
}

export function planQueueMapping(desired: QueueMappingSpec, observed: EventSourceMappingConfiguration[]): Plan<QueueMappingOp> {
  const [first, ...extra] = observed;
  if (!first?.UUID) {
    return { action: 'create', reason: 'no mapping from the backfill queue', ops: [{ kind: 'create-queue-mapping', batchSize: desired.batchSize, maximumConcurrency: desired.maximumConcurrency }] };
  }
  const ops: QueueMappingOp[] = [];
  const changes = mappingDifferences(desired, first);
  if (changes.length > 0) ops.push({ kind: 'update-queue-mapping', uuid: first.UUID, changes });
  for (const mapping of extra) if (mapping.UUID) ops.push({ kind: 'delete-extra-queue-mapping', uuid: mapping.UUID });
  return opsPlan(ops, `batches of ${desired.batchSize}, at most ${desired.maximumConcurrency} at once, partial batch failures`);
}

/** IAM is eventually consistent: a mapping created right after the role gained its SQS grant may be refused for a while. */
function isGrantNotVisibleYet(error: unknown): boolean {
  return awsErrorName(error) === 'InvalidParameterValueException' && /permission|not authorized|ReceiveMessage/i.test(errorMessage(error));
}

function observeMappings(context: ProvisionContext, functionExists: boolean | undefined): Promise<EventSourceMappingConfiguration[]> {
  // A function planned for creation (dry run) has no mapping yet.
  if (functionExists === false) return Promise.resolve([]);
  return listQueueMappings(context.clients.lambda, context.stack.settings.functionName, context.stack.backfillQueueArn);
}

export const queueMappingStep: Step<EventSourceMappingConfiguration[], QueueMappingOp> = {
  id: 'backfill-queue-mapping',
  resource: 'Backfill queue → function',
  name: (context) => `${context.stack.backfillQueueName} → ${context.stack.settings.functionName}`,
  observe: (context, inputs) => observeMappings(context, inputs.functionExists),
  plan: (context, observed) => planQueueMapping(desiredQueueMapping(context), observed),
  async apply(context, _observed, plan, _inputs, progress) {
    const { lambda } = context.clients;
    const desired = desiredQueueMapping(context);
    const retry = context.propagationRetry ?? IAM_PROPAGATION_RETRY;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-queue-mapping':
          progress('creating');
          await pRetry(() => createQueueMapping(lambda, desired, context.stack.tags), {
            retries: 20,
            minTimeout: retry.minTimeoutMs,
            maxTimeout: retry.maxTimeoutMs,
            maxRetryTime: retry.maxRetryTimeMs,
            shouldRetry: ({ error }) => isGrantNotVisibleYet(error),
          });
          break;
        case 'update-queue-mapping':
          await updateQueueMapping(lambda, op.uuid, desired);
          break;
        case 'delete-extra-queue-mapping':
          await deleteQueueMapping(lambda, op.uuid);
          break;
      }
    }
    return undefined;
  },
};

/** Before the function goes (and before the queue): nothing reads the queue for a function that is gone. */
export const queueMappingRemovalStep: Step<EventSourceMappingConfiguration[], QueueMappingRemovalOp> = {
  id: 'backfill-queue-mapping',
  resource: 'Backfill queue → function',
  name: (context) => `${context.stack.backfillQueueName} → ${context.stack.settings.functionName}`,
  observe: (context) => listQueueMappings(context.clients.lambda, context.stack.settings.functionName, context.stack.backfillQueueArn).catch((error: unknown) => {
    if (awsErrorName(error) === 'ResourceNotFoundException') return [];
    throw error;
  }),
  plan: (_context, observed): Plan<QueueMappingRemovalOp> => {
    const uuids = observed.map((m) => m.UUID).filter((uuid): uuid is string => uuid !== undefined);
    if (uuids.length === 0) return noop('already gone');
    return { action: 'delete', reason: 'made by this stack', ops: uuids.map((uuid) => ({ kind: 'delete-queue-mapping', uuid })) };
  },
  async apply(context, _observed, plan) {
    for (const op of plan.ops) await deleteQueueMapping(context.clients.lambda, op.uuid);
    return undefined;
  },
};
