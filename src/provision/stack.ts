import type { StackSettings } from '../config/settings.js';
import type { Identity } from '../context.js';
import { functionEnvironment } from '../../lambda-src/core/settings.js';
import { loadTemplate, renderTemplate, type Json } from './templates.js';

// Defined once in src/constants.ts (architecture pass); re-exported for the steps that import them from here.
export { FUNCTION_HANDLER, FUNCTION_RUNTIME } from '../constants.js';
/** The table's hash key, as the metadata contract names it. */
export const TABLE_HASH_KEY = 'ImageID';
/** The tag every resource carries, naming its stack (destroy deletes only buckets tagged so). */
export const STACK_TAG = 'img-resizer:stack';
/**
 * Set (to "true") on a bucket that already held objects when `init` first met it: the operator's own bucket,
 * used by the stack but not made by it, so destroy keeps it and its objects.
 */
export const ADOPTED_TAG = 'img-resizer:adopted';
export const INLINE_POLICY_NAME = 'img-resizer-function';
/** The function's resource-policy statement that lets S3 invoke it. */
export const INVOKE_STATEMENT_ID = 'img-resizer-s3-invoke';
/**
 * What the function calls on the table: it writes one item per upload (PutItem), and nothing else; backfill and
 * `metadata` read with the operator's credentials, not the function's.
 */
export const FUNCTION_TABLE_ACTIONS = ['dynamodb:PutItem'];
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
}

/** The function role's inline policy, rendered from templates/ (the one source for `init` and `export`). */
export function renderFunctionPolicy(vars: FunctionPolicyVars): Json {
  return renderTemplate(loadTemplate('function-policy.json'), { ...vars, tableActions: FUNCTION_TABLE_ACTIONS });
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
}

export function stackModel(settings: StackSettings, identity: Pick<Identity, 'account' | 'partition'>, region: string): StackModel {
  const { account } = identity;
  const partition = identity.partition || 'aws';
  const vars = {
    partition,
    region,
    account,
    sourceBucket: settings.sourceBucket,
    sourcePrefix: settings.prefix ?? '',
    destBucket: settings.destBucket,
    table: settings.table,
    functionName: settings.functionName,
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
    functionPolicy: renderFunctionPolicy(vars),
    environment: functionEnvironment({
      destBucket: settings.destBucket,
      table: settings.table,
      sourceBucket: settings.sourceBucket,
      sizes: settings.sizes,
      format: settings.format,
      fit: settings.fit,
    }),
    notificationId: `img-resizer-${settings.stackName}`,
  };
}
