/**
 * The stack `init` provisions, as a CloudFormation or SAM template: a pure model (settings in, document out),
 * so it is tested without AWS and rendered byte-identically for the same input.
 *
 * Each part of the stack is one function returning its Parameters, Resources and Outputs (TEMPLATE_PARTS); the
 * optional parts (notify subscriptions, CDN in cdn-part.ts, HTTP API in api-part.ts) return nothing when off.
 */
import { operationalSettings, stackRuntime, type StackSettings } from '../config/stack-settings.js';
import { filterPolicy, notifyProtocol } from '../config/notify-targets.js';
import { FIT_MODES, FUNCTION_ENV, OUTPUT_FORMATS } from '../../lambda-src/core/settings.js';
import { FUNCTION_HANDLER } from '../constants.js';
import { desiredStatements } from '../provision/bucket-policy.js';
import { FAILED_EVENTS_RETENTION_SECONDS, INLINE_POLICY_NAME, TABLE_HASH_KEY, TOPIC_KMS_KEY, rekognitionActions, renderFunctionPolicy } from '../provision/stack.js';
import { desiredTrigger } from '../provision/trigger.js';
import { loadTemplate, type Json } from '../provision/templates.js';
import { apiPart } from './api-part.js';
import { cdnBaseUrlValue, cdnDistributionArn, cdnPart } from './cdn-part.js';
import { workflowModeFor } from '../config/stack-settings.js';
import { workflowPart } from './workflow-part.js';
import { backfillPart } from './backfill-part.js';
import {
  LOGICAL_ID,
  PARAMETER,
  artifactReference,
  concreteModel,
  destBucketLogicalId,
  destBucketParameter,
  escapeSub,
  functionResource,
  getAtt,
  packagedCodeMetadata,
  ref,
  referencedEnvironment,
  sameBucket,
  sub,
  subscriptionLogicalId,
  substituteStrings,
  tagList,
  type JsonObject,
  type TemplateInput,
  type TemplatePart,
} from './template-model.js';

export type { ExportFormat } from '../constants.js';
export { LOGICAL_ID, type ArtifactLocation, type TemplateInput } from './template-model.js';

/** The names `init` gives the topic and the failed-events queue (src/provision/stack.ts), from the stack name. */
function topicName(settings: StackSettings): string {
  return `${settings.stackName}-outcomes`;
}
function failedEventsQueueName(settings: StackSettings): string {
  return `${settings.stackName}-failed-events`;
}

function parameters(settings: StackSettings): JsonObject {
  const bucketPattern = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';
  const out: JsonObject = {
    [PARAMETER.sourceBucket]: { Type: 'String', Default: settings.sourceBucket, AllowedPattern: bucketPattern, Description: 'Uploads go here; each new object starts the function' },
  };
  if (!sameBucket(settings)) {
    out[PARAMETER.destBucket] = { Type: 'String', Default: settings.destBucket, AllowedPattern: bucketPattern, Description: 'Resized images go here' };
  }
  Object.assign(out, {
    [PARAMETER.table]: { Type: 'String', Default: settings.table, AllowedPattern: '^[a-zA-Z0-9_.-]{3,255}$', Description: 'Metadata table (hash key ImageID)' },
    [PARAMETER.functionName]: { Type: 'String', Default: settings.functionName, AllowedPattern: '^[a-zA-Z0-9_-]{1,64}$', Description: 'The resize function' },
    [PARAMETER.roleName]: { Type: 'String', Default: settings.roleName, AllowedPattern: '^[\\w+=,.@-]{1,64}$', Description: "The function's execution role" },
    [PARAMETER.layerName]: { Type: 'String', Default: settings.layerName, AllowedPattern: '^[a-zA-Z0-9_-]{1,140}$', Description: 'The sharp layer' },
    [PARAMETER.sizes]: {
      Type: 'String',
      Default: settings.sizes,
      // The function's own rule for a size spec (lambda-src/core/sizes.ts), so a bad value fails the deployment, not every invocation.
      AllowedPattern: '^[a-z0-9_-]{1,64}=[1-9][0-9]{0,4}x[1-9][0-9]{0,4}(,[a-z0-9_-]{1,64}=[1-9][0-9]{0,4}x[1-9][0-9]{0,4})*$',
      Description: 'Output sizes: comma-separated name=WIDTHxHEIGHT',
    },
    [PARAMETER.format]: { Type: 'String', Default: settings.format, AllowedValues: [...OUTPUT_FORMATS], Description: 'Output image format' },
    [PARAMETER.fit]: { Type: 'String', Default: settings.fit, AllowedValues: [...FIT_MODES], Description: 'How an image is fitted into each size' },
    [PARAMETER.memory]: { Type: 'Number', Default: settings.memory, MinValue: 128, MaxValue: 10240, Description: "The function's memory (MB)" },
    [PARAMETER.timeout]: { Type: 'Number', Default: settings.timeout, MinValue: 1, MaxValue: 900, Description: "The function's timeout (seconds)" },
  });
  return out;
}

/** Encrypted, private, owner-enforced, tagged: what `init` sets on a bucket. */
function bucketProperties(settings: StackSettings, nameParameter: string): JsonObject {
  return {
    BucketName: ref(nameParameter),
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    Tags: tagList(settings),
  };
}

/**
 * A bucket's policy: the statements `init`'s bucket-policy step writes (src/provision/bucket-policy.ts), TLS-only
 * on every bucket and, on the destination bucket with the CDN on, the read statement for this distribution.
 */
function bucketPolicy(settings: StackSettings, bucketLogicalId: string): Json {
  const isDest = bucketLogicalId === destBucketLogicalId(settings);
  const statements = desiredStatements({
    bucketArn: `\${${bucketLogicalId}.Arn}`,
    adopted: false,
    cdnReadArn: isDest && settings.cdn === true ? cdnDistributionArn : undefined,
  });
  return {
    Type: 'AWS::S3::BucketPolicy',
    Properties: { Bucket: ref(bucketLogicalId), PolicyDocument: substituteStrings({ Version: '2012-10-17', Statement: statements }) },
  };
}

/**
 * The trigger, in CloudFormation's shape, from the same template `init` writes into the bucket's notification
 * configuration (templates/notification-configuration.json).
 */
function lambdaConfigurations(settings: StackSettings): Json {
  const trigger = desiredTrigger({
    id: 'export',
    functionArn: 'export',
    prefix: settings.prefix,
    suffix: settings.suffix,
    includeRemovals: !operationalSettings(settings).keepOnDelete,
  });
  const rules = (trigger.Filter?.Key?.FilterRules ?? []).map((rule) => ({ Name: String(rule.Name), Value: rule.Value ?? '' }));
  return (trigger.Events ?? []).map((event) => ({
    Event: event,
    Function: getAtt(LOGICAL_ID.function, 'Arn'),
    ...(rules.length > 0 ? { Filter: { S3Key: { Rules: rules } } } : {}),
  }));
}

/**
 * Buckets. The source bucket's notification needs the invoke permission to exist (S3 checks it), and the
 * permission names the bucket: a cycle if the permission referenced the bucket resource. So the permission's
 * SourceArn is built from the bucket *name* parameter (Fn::Sub), and the bucket DependsOn the permission.
 */
export function bucketsPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  const resources: JsonObject = {
    [LOGICAL_ID.sourceBucket]: {
      Type: 'AWS::S3::Bucket',
      DependsOn: [LOGICAL_ID.permission],
      Properties: {
        ...bucketProperties(settings, PARAMETER.sourceBucket),
        // Workflow mode: the bucket's events go to EventBridge (its rule starts the state machine), not the function.
        NotificationConfiguration: workflowModeFor(settings) ? { EventBridgeConfiguration: { EventBridgeEnabled: true } } : { LambdaConfigurations: lambdaConfigurations(settings) },
      },
    },
    [LOGICAL_ID.sourceBucketPolicy]: bucketPolicy(settings, LOGICAL_ID.sourceBucket),
  };
  const outputs: JsonObject = {
    SourceBucketName: { Description: 'Upload images here', Value: ref(LOGICAL_ID.sourceBucket) },
  };
  if (sameBucket(settings)) {
    outputs.DestinationBucketName = { Description: 'Resized images are written here', Value: ref(LOGICAL_ID.sourceBucket) };
  } else {
    resources[LOGICAL_ID.destBucket] = { Type: 'AWS::S3::Bucket', Properties: bucketProperties(settings, PARAMETER.destBucket) };
    resources[LOGICAL_ID.destBucketPolicy] = bucketPolicy(settings, LOGICAL_ID.destBucket);
    outputs.DestinationBucketName = { Description: 'Resized images are written here', Value: ref(LOGICAL_ID.destBucket) };
  }
  return { resources, outputs };
}

export function tablePart(input: TemplateInput): TemplatePart {
  return {
    resources: {
      [LOGICAL_ID.table]: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: ref(PARAMETER.table),
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: TABLE_HASH_KEY, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: TABLE_HASH_KEY, KeyType: 'HASH' }],
          ...(operationalSettings(input.settings).pointInTimeRecovery ? { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } } : {}),
          Tags: tagList(input.settings),
        },
      },
    },
    outputs: { MetadataTableName: { Description: 'One item per upload', Value: ref(PARAMETER.table) } },
  };
}

/**
 * The role's inline policy, rendered by the code `init` uses, with CloudFormation references in place of the
 * concrete values. Names, not resource ARNs (Ref/GetAtt), so the role depends on no resource: the buckets
 * depend on the function, which depends on the role.
 */
export function exportedFunctionPolicy(settings: StackSettings): Json {
  return substituteStrings(
    renderFunctionPolicy({
      partition: '${AWS::Partition}',
      region: '${AWS::Region}',
      account: '${AWS::AccountId}',
      sourceBucket: `\${${PARAMETER.sourceBucket}}`,
      sourcePrefix: escapeSub(settings.prefix ?? ''),
      destBucket: `\${${destBucketParameter(settings)}}`,
      table: `\${${PARAMETER.table}}`,
      functionName: `\${${PARAMETER.functionName}}`,
      // Built from names, like the rest, so the role depends on neither resource.
      topicArn: operationalSettings(settings).notifications ? `arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:${topicName(settings)}` : undefined,
      failedEventsQueueArn: `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${failedEventsQueueName(settings)}`,
      backfillQueueArn: settings.backfillQueue === true ? `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${concreteModel(settings).backfillQueueName}` : undefined,
      keepOnDelete: operationalSettings(settings).keepOnDelete,
    }, rekognitionActions(settings)),
  );
}

export function rolePart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  return {
    resources: {
      [LOGICAL_ID.role]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: ref(PARAMETER.roleName),
          Description: `img-resizer stack ${settings.stackName}: the resize function's execution role`,
          AssumeRolePolicyDocument: loadTemplate('lambda-trust-policy.json'),
          Policies: [{ PolicyName: INLINE_POLICY_NAME, PolicyDocument: exportedFunctionPolicy(settings) }],
          Tags: tagList(settings),
        },
      },
    },
    outputs: { FunctionRoleArn: { Description: "The function's execution role", Value: getAtt(LOGICAL_ID.role, 'Arn') } },
  };
}

/** The function's environment as `init` sets it (its stack model's), with the CDN's address when the CDN is on. */
function environmentVariables(settings: StackSettings): JsonObject {
  const out = referencedEnvironment(settings, concreteModel(settings).environment);
  if (settings.cdn === true) out[FUNCTION_ENV.cdnBaseUrl] = cdnBaseUrlValue(settings);
  return out;
}

/** The sharp layer, the function and the permission that lets the source bucket invoke it. */
export function functionPart(input: TemplateInput): TemplatePart {
  const { settings, format } = input;
  const runtime = stackRuntime(settings);
  const description = `img-resizer stack ${settings.stackName}: resizes images uploaded to \${${PARAMETER.sourceBucket}}`;
  const layer: Json =
    format === 'sam'
      ? {
          Type: 'AWS::Serverless::LayerVersion',
          Properties: {
            LayerName: ref(PARAMETER.layerName),
            Description: input.layerDescription,
            ContentUri: artifactReference(input.layerContent, 'sam'),
            CompatibleRuntimes: [runtime],
            CompatibleArchitectures: [settings.arch],
            // SAM keeps old layer versions by default; `destroy` removes them, so the stack does too.
            RetentionPolicy: 'Delete',
          },
        }
      : {
          Type: 'AWS::Lambda::LayerVersion',
          ...packagedCodeMetadata(input.layerContent),
          Properties: {
            LayerName: ref(PARAMETER.layerName),
            Description: input.layerDescription,
            Content: artifactReference(input.layerContent, 'cloudformation'),
            CompatibleRuntimes: [runtime],
            CompatibleArchitectures: [settings.arch],
          },
        };
  const common: JsonObject = {
    FunctionName: ref(PARAMETER.functionName),
    Description: sub(description),
    Runtime: runtime,
    Handler: FUNCTION_HANDLER,
    Role: getAtt(LOGICAL_ID.role, 'Arn'),
    MemorySize: ref(PARAMETER.memory),
    Timeout: ref(PARAMETER.timeout),
    Architectures: [settings.arch],
    Layers: [ref(LOGICAL_ID.layer)],
    Environment: { Variables: environmentVariables(settings) },
    // JSON logs into the log group the stack makes (with its retention), as `init` configures them.
    LoggingConfig: { LogFormat: 'JSON', LogGroup: ref(LOGICAL_ID.logGroup) },
  };
  const fn = functionResource(input, common);
  return {
    resources: {
      [LOGICAL_ID.layer]: layer,
      [LOGICAL_ID.function]: fn,
      [LOGICAL_ID.permission]: {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          FunctionName: getAtt(LOGICAL_ID.function, 'Arn'),
          Action: 'lambda:InvokeFunction',
          Principal: 's3.amazonaws.com',
          SourceArn: sub(`arn:\${AWS::Partition}:s3:::\${${PARAMETER.sourceBucket}}`),
          SourceAccount: ref('AWS::AccountId'),
        },
      },
    },
    outputs: {
      FunctionArn: { Description: 'The resize function', Value: getAtt(LOGICAL_ID.function, 'Arn') },
      SharpLayerVersionArn: { Description: 'The sharp layer version the function uses', Value: ref(LOGICAL_ID.layer) },
    },
  };
}

/**
 * The failure path, as `init` provisions it: the outcomes topic (unless notifications are off), the failed-events
 * queue Lambda sends an event to once the function failed on it through every retry, the retries themselves, and
 * the function's log group with its retention. (`--notify` subscriptions are not exported: see README.)
 */
export function failurePathPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  const operational = operationalSettings(settings);
  const resources: JsonObject = {};
  const outputs: JsonObject = {};
  if (operational.notifications) {
    resources[LOGICAL_ID.topic] = {
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: topicName(settings), KmsMasterKeyId: TOPIC_KMS_KEY, Tags: tagList(settings) },
    };
    outputs.OutcomesTopicArn = { Description: 'The function publishes each outcome here', Value: ref(LOGICAL_ID.topic) };
  }
  resources[LOGICAL_ID.failedEventsQueue] = {
    Type: 'AWS::SQS::Queue',
    Properties: {
      QueueName: failedEventsQueueName(settings),
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: FAILED_EVENTS_RETENTION_SECONDS,
      Tags: tagList(settings),
    },
  };
  resources[LOGICAL_ID.logGroup] = {
    Type: 'AWS::Logs::LogGroup',
    Properties: { LogGroupName: sub(`/aws/lambda/\${${PARAMETER.functionName}}`), RetentionInDays: operational.logRetentionDays, Tags: tagList(settings) },
  };
  resources[LOGICAL_ID.asyncInvoke] = {
    Type: 'AWS::Lambda::EventInvokeConfig',
    Properties: {
      FunctionName: ref(LOGICAL_ID.function),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: operational.retryAttempts,
      MaximumEventAgeInSeconds: operational.maxEventAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: getAtt(LOGICAL_ID.failedEventsQueue, 'Arn') } },
    },
  };
  outputs.FailedEventsQueueUrl = { Description: 'Events the function failed on through every retry (img-resizer failures)', Value: ref(LOGICAL_ID.failedEventsQueue) };
  return { resources, outputs };
}

/**
 * The `--notify` targets' subscriptions to the outcomes topic, as init's subscriptions step makes them: the
 * protocol read off the target, its filter policy, raw delivery for queues and HTTPS. As with init, a queue's or
 * function's owner grants the topic access (src/provision/subscriptions.ts `grantNeeded`): the template does not
 * edit resources it does not make.
 */
export function notifyPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  const targets = operationalSettings(settings).notifications ? (settings.notify ?? []) : [];
  const resources: JsonObject = {};
  targets.forEach((target, index) => {
    const protocol = notifyProtocol(target.endpoint);
    const filter = filterPolicy(target);
    resources[subscriptionLogicalId(index)] = {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: ref(LOGICAL_ID.topic),
        Protocol: protocol,
        Endpoint: target.endpoint,
        ...(filter === undefined ? {} : { FilterPolicyScope: 'MessageAttributes', FilterPolicy: JSON.parse(filter) as Json }),
        ...(protocol === 'sqs' || protocol === 'https' ? { RawMessageDelivery: true } : {}),
      },
    };
  });
  return { resources };
}

/** The stack's parts, in template order; the optional ones return nothing when their setting is off. */
export const TEMPLATE_PARTS: readonly ((input: TemplateInput) => TemplatePart)[] = [
  bucketsPart,
  tablePart,
  rolePart,
  functionPart,
  failurePathPart,
  backfillPart,
  notifyPart,
  cdnPart,
  apiPart,
  workflowPart,
];

/** The whole template as a JSON value. */
export function stackTemplate(input: TemplateInput): JsonObject {
  const parts = TEMPLATE_PARTS.map((part) => part(input));
  const merge = (pick: (part: TemplatePart) => JsonObject | undefined): JsonObject => {
    const out: JsonObject = {};
    for (const part of parts) {
      for (const [key, value] of Object.entries(pick(part) ?? {})) {
        if (Object.hasOwn(out, key)) throw new Error(`two template parts define ${key}`);
        out[key] = value;
      }
    }
    return out;
  };
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    ...(input.format === 'sam' ? { Transform: 'AWS::Serverless-2016-10-31' } : {}),
    Description: `img-resizer stack ${input.settings.stackName}: S3 upload -> Lambda (sharp) -> S3 + DynamoDB (exported by img-resizer export)`,
    Parameters: { ...parameters(input.settings), ...merge((part) => part.parameters) },
    Resources: merge((part) => part.resources),
    Outputs: merge((part) => part.outputs),
  };
}

/** The template's text: two-space JSON, keys in the model's fixed order, one trailing newline. */
export function renderStackTemplate(input: TemplateInput): string {
  return `${JSON.stringify(stackTemplate(input), null, 2)}\n`;
}
