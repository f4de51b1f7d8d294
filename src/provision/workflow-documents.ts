/**
 * The documents of workflow mode (issue 17): the state machine role's and EventBridge role's policies, and the
 * rule's event pattern. Pure, so plans and tests compare them with what AWS returns.
 */
import { queueSendStatement } from './queue-documents.js';
import { loadTemplate, renderTemplate, type Json } from './templates.js';

export interface WorkflowPolicyInput {
  account: string;
  functionArn: string;
  tableArn: string;
  topicArn?: string | undefined;
  deadLetterQueueArn?: string | undefined;
  /** Express workflows log to CloudWatch Logs through a log delivery (those actions take no resource but "*"). */
  logDelivery: boolean;
}

interface PolicyDocument {
  Version: string;
  Statement: Record<string, Json>[];
}

/** The templates are policy documents by construction (templates/*-policy.json). */
function asPolicy(document: Json): PolicyDocument {
  return document as unknown as PolicyDocument;
}

/** Drops statements whose resource is not part of this stack (no topic, no queue, no logging). */
function withResources(document: Json): PolicyDocument {
  const policy = asPolicy(document);
  return { ...policy, Statement: policy.Statement.filter((statement) => statement.Resource !== undefined) };
}

export function stateMachineTrustPolicy(account: string): PolicyDocument {
  return asPolicy(renderTemplate(loadTemplate('state-machine-trust-policy.json'), { account }));
}

/** Exactly what the states call: the function, the table, and the topic and queue when the stack has them. */
export function stateMachinePolicy(input: WorkflowPolicyInput): PolicyDocument {
  return withResources(
    renderTemplate(loadTemplate('state-machine-policy.json'), {
      functionArn: input.functionArn,
      tableArn: input.tableArn,
      topicArn: input.topicArn,
      deadLetterQueueArn: input.deadLetterQueueArn,
      logDeliveryResource: input.logDelivery ? '*' : undefined,
    }),
  );
}

export function eventsTrustPolicy(account: string): PolicyDocument {
  return asPolicy(renderTemplate(loadTemplate('events-trust-policy.json'), { account }));
}

/** EventBridge may start executions of this one state machine, nothing else. */
export function eventsRolePolicy(stateMachineArn: string): PolicyDocument {
  return asPolicy(renderTemplate(loadTemplate('events-role-policy.json'), { stateMachineArn }));
}

/** Escapes what EventBridge's wildcard matching treats specially. */
function wildcardLiteral(text: string): string {
  return text.replace(/[\\*]/g, (character) => `\\${character}`);
}

/**
 * The rule's pattern: S3's "Object Created" events of the source bucket, narrowed to the trigger's prefix and
 * suffix as the direct trigger's filter would be (both at once need a wildcard: one field takes one matcher).
 */
export function objectCreatedPattern(bucket: string, filter: { prefix?: string | undefined; suffix?: string | undefined } = {}): Record<string, Json> {
  const prefix = filter.prefix ?? '';
  const suffix = filter.suffix ?? '';
  let key: Json | undefined;
  if (prefix !== '' && suffix !== '') key = [{ wildcard: `${wildcardLiteral(prefix)}*${wildcardLiteral(suffix)}` }];
  else if (prefix !== '') key = [{ prefix }];
  else if (suffix !== '') key = [{ suffix }];
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: { bucket: { name: [bucket] }, ...(key === undefined ? {} : { object: { key } }) },
  };
}

/**
 * The failed-events queue's resource policy in workflow mode: EventBridge sends the upload rule's dead letters
 * there, and only for that one rule (EventBridge's DLQ delivery uses the queue's policy, not the events role).
 */
export function failedEventsQueuePolicy(input: { queueArn: string; ruleArn: string }): PolicyDocument {
  // The same grant as every queue's (templates/queue-send-policy-statement.json): EventBridge, for the upload rule only.
  const statement = queueSendStatement({ sid: 'UploadRuleDeadLetters', service: 'events.amazonaws.com', queueArn: input.queueArn, sourceArn: input.ruleArn });
  return asPolicy({ Version: '2012-10-17', Statement: [statement] });
}

/**
 * How long and how often EventBridge retries starting an execution before the event goes to the dead-letter
 * queue. The age is the stack's --max-event-age (the same patience as the direct trigger's async retries);
 * the attempts are EventBridge's own default: its retries are for throttling and service errors, not for bad
 * images, so the direct mode's 0–2 would give up on a busy account far too soon.
 */
export const RULE_TARGET_RETRY_ATTEMPTS = 185;
export function ruleTargetRetryPolicy(maxEventAgeSeconds: number): { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number } {
  return { MaximumRetryAttempts: RULE_TARGET_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: maxEventAgeSeconds };
}
