import { operationalSettings, type StackSettings } from '../config/settings.js';
import type { Identity } from '../context.js';
import { functionEnvironment, type FunctionEnvironmentInput } from '../../lambda-src/core/settings.js';
import { loadTemplate, renderTemplate, type Json } from './templates.js';

// Defined once in src/constants.ts (architecture pass); re-exported for the steps that import them from here.
export { FUNCTION_HANDLER } from '../constants.js';
/** The table's hash key, as the metadata contract names it. */
export const TABLE_HASH_KEY = 'ImageID';
/** The tag every resource carries, naming its stack (destroy deletes only buckets tagged so). */
export const STACK_TAG = 'img-resizer:stack';
/**
 * Set (to "true") on a bucket that already held objects when `init` first met it: the operator's own bucket,
 * used by the stack but not made by it, so destroy keeps it and its objects.
 */
export const ADOPTED_TAG = 'img-resizer:adopted';
/**
 * On an adopted bucket: what init changed, as it was before (`pab=<4 flags or none> enc=<algorithm or none>
 * own=<ownership or none>`), so the bucket's owner (and a later destroy) can put it back.
 */
export const PREVIOUS_SETTINGS_TAG = 'img-resizer:previous-settings';
export const INLINE_POLICY_NAME = 'img-resizer-function';
/** The function's resource-policy statement that lets S3 invoke it. */
export const INVOKE_STATEMENT_ID = 'img-resizer-s3-invoke';
/**
 * What the function calls on the table: it writes one item per upload (PutItem), and nothing else; backfill and
 * `metadata` read with the operator's credentials, not the function's.
 */
export const FUNCTION_TABLE_ACTIONS = ['dynamodb:PutItem'];
/** Exactly what Lambda's event source mapping calls on the backfill queue, as the function's role. */
export const BACKFILL_QUEUE_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;
// templates/function-policy.json also grants s3:ListBucket on the source bucket (the bucket, not its objects):
// without it S3 answers GetObject for a missing key with 403 AccessDenied instead of 404 NoSuchKey, and the
// function could not record NOT_FOUND for an object deleted before it ran.

/** Lambda's limit on a function's environment variables, together (it measures them as their JSON). */
export const ENVIRONMENT_LIMIT_BYTES = 4096;

/** Why Lambda would refuse this environment, or undefined; checked before init changes anything. */
export function environmentProblem(environment: Record<string, string>): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(environment), 'utf8');
  if (bytes <= ENVIRONMENT_LIMIT_BYTES) return undefined;
  const largest = Object.entries(environment).sort(([, a], [, b]) => b.length - a.length)[0]?.[0] ?? '';
  return `the function's environment variables take ${bytes} bytes, over Lambda's ${ENVIRONMENT_LIMIT_BYTES}-byte limit (largest: ${largest})`;
}

/** The values templates/function-policy.json names: concrete ones for init, CloudFormation `${...}` references for export. */
export interface FunctionPolicyVars {
  partition: string;
  region: string;
  account: string;
  sourceBucket: string;
  sourcePrefix: string;
  destBucket: string;
  table: string;
  functionName: string;
  /** The outcomes topic the function publishes to; undefined with notifications off (no sns:Publish then). */
  topicArn: string | undefined;
  /** Where Lambda, acting as the role, sends the events the function failed on through every retry. */
  failedEventsQueueArn: string;
  /** With --keep-on-delete the function removes nothing, so the role gets no s3:DeleteObject. */
  keepOnDelete: boolean;
  /** The backfill queue Lambda reads for the function (issue 18); undefined without one (no sqs:ReceiveMessage then). */
  backfillQueueArn?: string | undefined;
}

/**
 * The Rekognition actions the settings switch on, none by default: the role gains only what the function calls.
 * Neither action takes a resource ARN (the image travels in the request), so their statement's resource is "*"
 * (templates/rekognition-policy-statement.json says so in its Sid).
 */
export function rekognitionActions(settings: Pick<StackSettings, 'labels' | 'moderation'>): string[] {
  return [...(settings.labels ? ['rekognition:DetectLabels'] : []), ...(settings.moderation ? ['rekognition:DetectModerationLabels'] : [])];
}

/** The function environment's labels and moderation part, from the settings (absent when off). */
export function contentAnalysisEnvironment(settings: StackSettings): Pick<FunctionEnvironmentInput, 'labels' | 'moderation'> {
  const input: Pick<FunctionEnvironmentInput, 'labels' | 'moderation'> = {};
  if (settings.labels) input.labels = { minConfidence: settings.labelsMinConfidence, maxLabels: settings.labelsMax };
  if (settings.moderation) input.moderation = { minConfidence: settings.moderationMinConfidence };
  return input;
}

/**
 * The function environment's output tuning (issue 11), each only when set, so a stack that never set one keeps the
 * function's default and an environment without the variable. ALLOW_UPSCALE only when on: off is the default.
 */
export function outputTuningEnvironment(
  settings: StackSettings,
): Pick<FunctionEnvironmentInput, 'quality' | 'allowUpscale' | 'maxPixels' | 'maxBytes' | 'background' | 'cacheControl'> {
  const input: Pick<FunctionEnvironmentInput, 'quality' | 'allowUpscale' | 'maxPixels' | 'maxBytes' | 'background' | 'cacheControl'> = {};
  if (settings.quality !== undefined) input.quality = settings.quality;
  if (settings.allowUpscale === true) input.allowUpscale = true;
  if (settings.maxPixels !== undefined) input.maxPixels = settings.maxPixels;
  if (settings.maxBytes !== undefined) input.maxBytes = settings.maxBytes;
  if (settings.background !== undefined) input.background = settings.background;
  if (settings.cacheControl !== undefined) input.cacheControl = settings.cacheControl;
  return input;
}

/** The function role's inline policy, rendered from templates/ (the one source for `init` and `export`). */
export function renderFunctionPolicy(vars: FunctionPolicyVars, actions: readonly string[] = []): Json {
  const { topicArn, failedEventsQueueArn, keepOnDelete, backfillQueueArn, ...names } = vars;
  const policy = renderTemplate(loadTemplate('function-policy.json'), {
    ...names,
    tableActions: FUNCTION_TABLE_ACTIONS,
    // Exactly what the function publishes to and where Lambda (acting as the role) sends failed events.
    publishOutcomesStatement: topicArn === undefined ? undefined : { Sid: 'PublishOutcomes', Effect: 'Allow', Action: ['sns:Publish'], Resource: [topicArn] },
    // Removing a removed source's outputs: the output prefixes only, and only when removals are handled.
    removeResizedObjectsStatement: keepOnDelete
      ? undefined
      : {
          Sid: 'RemoveResizedObjects',
          Effect: 'Allow',
          Action: ['s3:DeleteObject'],
          Resource: [`arn:${names.partition}:s3:::${names.destBucket}/resized-*`, `arn:${names.partition}:s3:::${names.destBucket}/resized/*`],
        },
    sendFailedEventsStatement: { Sid: 'SendFailedEvents', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [failedEventsQueueArn] },
    // What the event source mapping (acting as the role) needs to feed the function from the backfill queue.
    consumeBackfillQueueStatement: backfillQueueArn === undefined
      ? undefined
      : { Sid: 'ConsumeBackfillQueue', Effect: 'Allow', Action: [...BACKFILL_QUEUE_ACTIONS], Resource: [backfillQueueArn] },
  });
  if (actions.length === 0) return policy;
  const statement = renderTemplate(loadTemplate('rekognition-policy-statement.json'), { rekognitionActions: [...actions] });
  const document = policy as { Statement: Json[] };
  const statements = [...document.Statement, statement];
  // A moderated image's outputs from an earlier version of the object are deleted, so none is left showing
  // (also with --keep-on-delete, which only drops the removal of a removed source's outputs).
  if (actions.includes('rekognition:DetectModerationLabels')) statements.push(renderTemplate(loadTemplate('moderation-policy-statement.json'), { ...names }));
  return { ...document, Statement: statements };
}

/** Everything the steps need to know about the stack as it should be: names, ARNs, documents. */
export interface StackModel {
  settings: StackSettings;
  account: string;
  partition: string;
  region: string;
  tags: Record<string, string>;
  sourceBucketArn: string;
  destBucketArn: string;
  tableArn: string;
  /** The role's ARN as IAM will report it (roles created here have path "/"). */
  roleArn: string;
  functionArn: string;
  layerArn: string;
  trustPolicy: Json;
  functionPolicy: Json;
  environment: Record<string, string>;
  notificationId: string;
  /** The SNS topic the function publishes each outcome to (absent with notifications off). */
  topicName: string;
  topicArn: string;
  /** The SQS queue Lambda sends events to once the function failed on them through every retry. */
  failedEventsQueueName: string;
  failedEventsQueueArn: string;
  /** The function's log group, made by init with a retention. */
  logGroupName: string;
  /** The queue `backfill --via queue` fills and the function consumes (exists only with settings.backfillQueue). */
  backfillQueueName: string;
  backfillQueueArn: string;
}

/** SNS topics encrypted with the account's AWS-managed key for SNS: no key to manage, no key policy to widen. */
export const TOPIC_KMS_KEY = 'alias/aws/sns';
/** SQS keeps a message at most 14 days: the failed events wait that long for `failures redrive`. */
export const FAILED_EVENTS_RETENTION_SECONDS = 14 * 24 * 60 * 60;

export function stackModel(settings: StackSettings, identity: Pick<Identity, 'account' | 'partition'>, region: string): StackModel {
  const { account } = identity;
  const partition = identity.partition || 'aws';
  const operational = operationalSettings(settings);
  const topicName = `${settings.stackName}-outcomes`;
  const topicArn = `arn:${partition}:sns:${region}:${account}:${topicName}`;
  const failedEventsQueueName = `${settings.stackName}-failed-events`;
  const failedEventsQueueArn = `arn:${partition}:sqs:${region}:${account}:${failedEventsQueueName}`;
  const backfillQueueName = `${settings.stackName}-backfill`;
  const backfillQueueArn = `arn:${partition}:sqs:${region}:${account}:${backfillQueueName}`;
  const vars = {
    backfillQueueArn: settings.backfillQueue === true ? backfillQueueArn : undefined,
    partition,
    region,
    account,
    sourceBucket: settings.sourceBucket,
    sourcePrefix: settings.prefix ?? '',
    destBucket: settings.destBucket,
    table: settings.table,
    functionName: settings.functionName,
    topicArn: operational.notifications ? topicArn : undefined,
    failedEventsQueueArn,
    keepOnDelete: operational.keepOnDelete,
  };
  return {
    settings,
    account,
    partition,
    region,
    tags: { [STACK_TAG]: settings.stackName },
    sourceBucketArn: `arn:${partition}:s3:::${settings.sourceBucket}`,
    destBucketArn: `arn:${partition}:s3:::${settings.destBucket}`,
    tableArn: `arn:${partition}:dynamodb:${region}:${account}:table/${settings.table}`,
    roleArn: `arn:${partition}:iam::${account}:role/${settings.roleName}`,
    functionArn: `arn:${partition}:lambda:${region}:${account}:function:${settings.functionName}`,
    layerArn: `arn:${partition}:lambda:${region}:${account}:layer:${settings.layerName}`,
    trustPolicy: loadTemplate('lambda-trust-policy.json'),
    functionPolicy: renderFunctionPolicy(vars, rekognitionActions(settings)),
    environment: functionEnvironment({
      destBucket: settings.destBucket,
      table: settings.table,
      sourceBucket: settings.sourceBucket,
      sizes: settings.sizes,
      format: settings.format,
      fit: settings.fit,
      ...(operational.notifications ? { notifyTopicArn: topicArn } : {}),
      ...(operational.keepOnDelete ? { keepOnDelete: true } : {}),
      ...contentAnalysisEnvironment(settings),
      ...outputTuningEnvironment(settings),
    }),
    notificationId: `img-resizer-${settings.stackName}`,
    topicName,
    topicArn,
    failedEventsQueueName,
    failedEventsQueueArn,
    logGroupName: `/aws/lambda/${settings.functionName}`,
    backfillQueueName,
    backfillQueueArn,
  };
}
