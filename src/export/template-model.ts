/**
 * What every part of the exported template shares: the input, the logical IDs and parameter names parts refer
 * to across each other, the intrinsic-function builders, and the stack model `init` would use, with
 * CloudFormation references in place of the values only a deployment knows.
 */
import { FUNCTION_ENV } from '../../lambda-src/core/settings.js';
import type { StackSettings } from '../config/stack-settings.js';
import type { ExportFormat } from '../constants.js';
import { STACK_TAG, stackModel, type StackModel } from '../provision/stack.js';
import type { Json } from '../provision/templates.js';

/** Where a zip is: beside the template (for `aws cloudformation package` / `sam deploy`), or already in S3. */
export type ArtifactLocation = { kind: 'local'; file: string } | { kind: 's3'; bucket: string; key: string };

export interface TemplateInput {
  settings: StackSettings;
  format: ExportFormat;
  functionCode: ArtifactLocation;
  layerContent: ArtifactLocation;
  /** The layer version's Description (`sharp <v> linux-<cpu> glibc sha256:<hex>`), as `init` publishes it. */
  layerDescription: string;
}

export type JsonObject = Record<string, Json>;

/** What one part of the stack contributes. */
export interface TemplatePart {
  parameters?: JsonObject;
  resources: JsonObject;
  outputs?: JsonObject;
}

/** Logical IDs, referenced across parts. */
export const LOGICAL_ID = {
  sourceBucket: 'SourceBucket',
  sourceBucketPolicy: 'SourceBucketPolicy',
  destBucket: 'DestinationBucket',
  destBucketPolicy: 'DestinationBucketPolicy',
  table: 'MetadataTable',
  role: 'FunctionRole',
  layer: 'SharpLayer',
  function: 'ResizeFunction',
  permission: 'SourceBucketInvokePermission',
  topic: 'OutcomesTopic',
  failedEventsQueue: 'FailedEventsQueue',
  logGroup: 'FunctionLogGroup',
  asyncInvoke: 'FunctionEventInvokeConfig',
  cdnOriginAccessControl: 'CdnOriginAccessControl',
  cdnDistribution: 'CdnDistribution',
  apiRole: 'ApiFunctionRole',
  apiFunction: 'ApiFunction',
  apiLogGroup: 'ApiAccessLogGroup',
  httpApi: 'HttpApi',
  apiIntegration: 'ApiIntegration',
  apiAuthorizer: 'ApiJwtAuthorizer',
  apiUploadRoute: 'ApiUploadRoute',
  apiReadRoute: 'ApiReadRoute',
  apiStage: 'ApiDefaultStage',
  apiPermission: 'ApiInvokePermission',
  workflowLogGroup: 'WorkflowLogGroup',
  stateMachineRole: 'StateMachineRole',
  stateMachine: 'StateMachine',
  eventsRole: 'EventsRole',
  uploadRule: 'UploadRule',
  failedEventsQueuePolicy: 'FailedEventsQueuePolicy',
  backfillQueue: 'BackfillQueue',
  backfillQueueMapping: 'BackfillQueueMapping',
} as const;

/** The `--notify` targets' subscriptions, numbered in the settings' order (NotifySubscription1, ...). */
export function subscriptionLogicalId(index: number): string {
  return `NotifySubscription${index + 1}`;
}

/** Parameter names; their defaults are the current settings. */
export const PARAMETER = {
  sourceBucket: 'SourceBucketName',
  destBucket: 'DestinationBucketName',
  table: 'TableName',
  functionName: 'FunctionName',
  roleName: 'RoleName',
  layerName: 'LayerName',
  sizes: 'Sizes',
  format: 'OutputFormat',
  fit: 'Fit',
  memory: 'MemorySize',
  timeout: 'Timeout',
} as const;

export const ref = (name: string): Json => ({ Ref: name });
export const getAtt = (logicalId: string, attribute: string): Json => ({ 'Fn::GetAtt': [logicalId, attribute] });
export const sub = (text: string): Json => ({ 'Fn::Sub': text });

/** A literal inside an Fn::Sub string: `${` would start a reference, `${!` is Fn::Sub's escape for it. */
export function escapeSub(literal: string): string {
  return literal.replaceAll('${', '${!');
}

/** A string that is one whole reference: `${Name}` (a Ref) or `${Resource.Attribute}` (a GetAtt). */
const WHOLE_REFERENCE = /^\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z0-9.]+))?\}$/;

/**
 * Every string that names a `${...}` becomes an Fn::Sub (or the plain Ref / GetAtt when it is nothing but one
 * reference); the rest stay as they are.
 */
export function substituteStrings(value: Json): Json {
  if (typeof value === 'string') {
    const whole = WHOLE_REFERENCE.exec(value);
    if (whole?.[1] !== undefined) return whole[2] === undefined ? ref(whole[1]) : getAtt(whole[1], whole[2]);
    return value.includes('${') ? sub(value) : value;
  }
  if (Array.isArray(value)) return value.map(substituteStrings);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteStrings(item)]));
  }
  return value;
}

/** One bucket serves as source and destination (allowed with a trigger prefix): then it is one resource. */
export function sameBucket(settings: StackSettings): boolean {
  return settings.sourceBucket === settings.destBucket;
}

export function destBucketParameter(settings: StackSettings): string {
  return sameBucket(settings) ? PARAMETER.sourceBucket : PARAMETER.destBucket;
}

/** The destination bucket's logical ID (the source bucket's when they are one). */
export function destBucketLogicalId(settings: StackSettings): string {
  return sameBucket(settings) ? LOGICAL_ID.sourceBucket : LOGICAL_ID.destBucket;
}

/** The stack tag as a list (most resource types) or a map (SAM functions, API Gateway v2). */
export function tagList(settings: StackSettings): Json {
  return [{ Key: STACK_TAG, Value: settings.stackName }];
}
export function tagMap(settings: StackSettings): Json {
  return { [STACK_TAG]: settings.stackName };
}

/**
 * The model `init` builds (src/provision/stack.ts), for renderers that take one: account, region and partition
 * are the pseudo parameters and the parameterised names are `${Parameter}` references, so what they render
 * becomes Fn::Sub strings through `substituteStrings`. The function environment is built with the concrete
 * settings (the function validates it); `referencedEnvironment` swaps in the references.
 */
export function referencedModel(settings: StackSettings): StackModel {
  return {
    ...concreteModel(settings),
    account: '${AWS::AccountId}',
    partition: '${AWS::Partition}',
    region: '${AWS::Region}',
    settings: {
      ...settings,
      sourceBucket: `\${${PARAMETER.sourceBucket}}`,
      destBucket: `\${${destBucketParameter(settings)}}`,
      table: `\${${PARAMETER.table}}`,
      functionName: `\${${PARAMETER.functionName}}`,
      ...(settings.prefix === undefined ? {} : { prefix: escapeSub(settings.prefix) }),
    },
  };
}

/**
 * A function environment `init` would set, with the parameterised settings as references: the buckets, table,
 * sizes, format and fit are Parameters, the topic's ARN is its Ref; every other value stays as it is.
 */
export function referencedEnvironment(settings: StackSettings, concrete: Readonly<Record<string, string>>): JsonObject {
  const referenced: Record<string, string> = {
    [FUNCTION_ENV.destBucket]: destBucketParameter(settings),
    [FUNCTION_ENV.table]: PARAMETER.table,
    [FUNCTION_ENV.sourceBucket]: PARAMETER.sourceBucket,
    [FUNCTION_ENV.sizes]: PARAMETER.sizes,
    [FUNCTION_ENV.format]: PARAMETER.format,
    [FUNCTION_ENV.fit]: PARAMETER.fit,
    // The topic's Ref is its ARN.
    [FUNCTION_ENV.notifyTopicArn]: LOGICAL_ID.topic,
  };
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(concrete)) {
    const target = referenced[name];
    out[name] = target === undefined ? value : ref(target);
  }
  return out;
}

/**
 * On a CloudFormation resource whose code is a local path: cfn-lint's W3002 says such a template needs
 * `aws cloudformation package` first, which is exactly how it is meant to be deployed (README), so that one
 * check is off for that resource. `package` keeps the Metadata; SAM and S3 references need none.
 */
export function packagedCodeMetadata(location: ArtifactLocation): JsonObject {
  return location.kind === 'local' ? { Metadata: { 'cfn-lint': { config: { ignore_checks: ['W3002'] } } } } : {};
}

export function artifactReference(location: ArtifactLocation, shape: 'cloudformation' | 'sam'): Json {
  if (location.kind === 'local') return location.file;
  return shape === 'sam' ? { Bucket: location.bucket, Key: location.key } : { S3Bucket: location.bucket, S3Key: location.key };
}

/** A function with the stack's zip as its code: AWS::Lambda::Function, or AWS::Serverless::Function for SAM. */
export function functionResource(input: TemplateInput, properties: JsonObject): Json {
  return input.format === 'sam'
    ? { Type: 'AWS::Serverless::Function', Properties: { ...properties, CodeUri: artifactReference(input.functionCode, 'sam'), Tags: tagMap(input.settings) } }
    : {
        Type: 'AWS::Lambda::Function',
        ...packagedCodeMetadata(input.functionCode),
        Properties: { ...properties, Code: artifactReference(input.functionCode, 'cloudformation'), Tags: tagList(input.settings) },
      };
}

/** The stack model `init` would build, with placeholder account and partition (for the values that need neither). */
export function concreteModel(settings: StackSettings): StackModel {
  return stackModel(settings, { account: '000000000000', partition: 'aws' }, settings.region ?? 'us-east-1');
}
