import { createQueue, deleteQueue, getQueueAttributes, getQueueUrl, setQueueAttributes } from '../aws/sqs.js';
import { FAILED_EVENTS_RETENTION_SECONDS } from './stack.js';
import { stableStringify } from './policy.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type Step } from './types.js';
import { workflowMode, workflowNames } from './workflow.js';
import { failedEventsQueuePolicy } from './workflow-documents.js';

/** The queue as found: its URL and attributes (depth included: status reports it). */
export interface ObservedQueue {
  url: string;
  attributes: Record<string, string>;
}

export type FailedEventsQueueOp =
  | { kind: 'create-queue'; retentionSeconds: number }
  | { kind: 'set-queue-attributes'; changes: { name: string; from: string | undefined; to: string }[] };

export interface FailedEventsQueueRemovalOp { kind: 'delete-queue'; messages: number }

/** SSE-SQS (no key to manage) and the longest retention SQS offers. */
export function desiredQueueAttributes(): Record<string, string> {
  return { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: String(FAILED_EVENTS_RETENTION_SECONDS) };
}

/**
 * The queue's resource policy: in workflow mode EventBridge sends the upload rule's dead letters here, which
 * needs a grant on the queue (Lambda's destination and the state machine use their roles instead).
 */
export function desiredQueuePolicy(context: ProvisionContext): string | undefined {
  return workflowMode(context) ? workflowQueuePolicy(context) : undefined;
}

/** Workflow mode's grant, whatever the current mode (direct mode removes it when an earlier init left it). */
function workflowQueuePolicy(context: ProvisionContext): string {
  return JSON.stringify(failedEventsQueuePolicy({ queueArn: context.stack.failedEventsQueueArn, ruleArn: workflowNames(context.stack).ruleArn }));
}

function samePolicy(a: string | undefined, b: string): boolean {
  try {
    return a !== undefined && stableStringify(JSON.parse(a)) === stableStringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * `ourPolicy` is the grant workflow mode wants (`desiredQueuePolicy`), and `keepPolicy` says whether the mode is on:
 * on, the queue gets exactly it; off, a policy that is exactly it (left by an earlier workflow-mode init) is removed
 * and any other policy is the operator's and stays.
 */
export function planFailedEventsQueue(observed: ObservedQueue | undefined, policy?: { ourPolicy: string; keepPolicy: boolean }): Plan<FailedEventsQueueOp> {
  if (!observed) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-queue', retentionSeconds: FAILED_EVENTS_RETENTION_SECONDS }] };
  const changes = Object.entries(desiredQueueAttributes())
    // A queue encrypted with a KMS key of the operator's choosing is encrypted too: leave it so.
    .filter(([name]) => !(name === 'SqsManagedSseEnabled' && observed.attributes.KmsMasterKeyId))
    .filter(([name, value]) => observed.attributes[name] !== value)
    .map(([name, to]) => ({ name, from: observed.attributes[name], to }));
  if (policy) {
    const matches = samePolicy(observed.attributes.Policy, policy.ourPolicy);
    if (policy.keepPolicy && !matches) changes.push({ name: 'Policy', from: observed.attributes.Policy, to: policy.ourPolicy });
    if (!policy.keepPolicy && matches) changes.push({ name: 'Policy', from: observed.attributes.Policy, to: '' });
  }
  return opsPlan(changes.length > 0 ? [{ kind: 'set-queue-attributes', changes }] : [], 'encrypted (SSE-SQS), keeps messages 14 days');
}

/** The policy part of the plan's input for this context (see planFailedEventsQueue). */
function policyIntent(context: ProvisionContext): { ourPolicy: string; keepPolicy: boolean } {
  return { ourPolicy: workflowQueuePolicy(context), keepPolicy: workflowMode(context) };
}

export async function observeFailedEventsQueue(sqs: Parameters<typeof getQueueUrl>[0], name: string): Promise<ObservedQueue | undefined> {
  const url = await getQueueUrl(sqs, name);
  if (url === undefined) return undefined;
  const attributes = await getQueueAttributes(sqs, url);
  return attributes ? { url, attributes } : undefined;
}

/** How many failed events wait in the queue (visible and in flight). */
export function queueDepth(observed: ObservedQueue | undefined): number {
  if (!observed) return 0;
  return Number(observed.attributes.ApproximateNumberOfMessages ?? 0) + Number(observed.attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Where Lambda sends an event the function failed on after its retries (the on-failure destination). */
export const failedEventsQueueStep: Step<ObservedQueue | undefined, FailedEventsQueueOp> = {
  id: 'failed-events-queue',
  resource: 'Failed-events queue',
  name: (context) => context.stack.failedEventsQueueName,
  observe: (context) => observeFailedEventsQueue(context.clients.sqs, context.stack.failedEventsQueueName),
  plan: (context, observed) => planFailedEventsQueue(observed, policyIntent(context)),
  // The workflow's DeadLetter state addresses the queue by URL (known once it exists).
  outputs: (_context, observed) => (observed ? { failedEventsQueueUrl: observed.url } : {}),
  async apply(context, observed, plan, _inputs, progress) {
    const { sqs } = context.clients;
    let createdUrl: string | undefined;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-queue': {
          progress('creating');
          const policy = desiredQueuePolicy(context);
          createdUrl = await createQueue(sqs, context.stack.failedEventsQueueName, { ...desiredQueueAttributes(), ...(policy === undefined ? {} : { Policy: policy }) }, context.stack.tags);
          break;
        }
        case 'set-queue-attributes':
          if (observed) await setQueueAttributes(sqs, observed.url, Object.fromEntries(op.changes.map((c) => [c.name, c.to])));
          break;
      }
    }
    return createdUrl === undefined ? undefined : { outputs: { failedEventsQueueUrl: createdUrl } };
  },
};

export const failedEventsQueueRemovalStep: Step<ObservedQueue | undefined, FailedEventsQueueRemovalOp> = {
  id: 'failed-events-queue',
  resource: 'Failed-events queue',
  name: (context) => context.stack.failedEventsQueueName,
  observe: (context) => observeFailedEventsQueue(context.clients.sqs, context.stack.failedEventsQueueName),
  plan: (_context, observed): Plan<FailedEventsQueueRemovalOp> =>
    observed
      ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-queue', messages: queueDepth(observed) }] }
      : noop('already gone'),
  async apply(context, observed) {
    if (observed) await deleteQueue(context.clients.sqs, observed.url);
    return undefined;
  },
};
