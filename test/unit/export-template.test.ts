import { describe, expect, it } from 'vitest';
import type { StackSettings } from '../../src/config/settings.js';
import { LOGICAL_ID, renderStackTemplate, stackTemplate, type ExportFormat, type TemplateInput } from '../../src/export/template.js';
import { policiesEqual } from '../../src/provision/policy.js';
import { operationalSettings } from '../../src/config/stack-settings.js';
import { FAILED_EVENTS_RETENTION_SECONDS, TOPIC_KMS_KEY, stackModel } from '../../src/provision/stack.js';
import { desiredTrigger } from '../../src/provision/trigger.js';
import { cdnAliasList, stackRuntime } from '../../src/config/stack-settings.js';
import {
  ACCESS_LOG_FORMAT,
  API_FUNCTION_TIMEOUT_S,
  API_HANDLER,
  API_LOG_RETENTION_DAYS,
  API_POLICY_NAME,
  API_ROUTES,
  apiAuth,
  apiCors,
  apiFunctionEnvironment,
  apiNames,
  apiRouteAuthorization,
  apiThrottle,
  renderApiFunctionPolicy,
} from '../../src/provision/api.js';
import { desiredShape, distributionComment, oacName, shapeDifferences, type DistributionShape } from '../../src/provision/cdn.js';
import { planSubscriptions } from '../../src/provision/subscriptions.js';
import { loggingConfiguration } from '../../src/aws/stepfunctions.js';
import { renderStateMachineDefinition } from '../../src/provision/state-machine-definition.js';
import { VISIBILITY_TIMEOUT_FACTOR, desiredBackfillQueueAttributes, queueMappingSpec } from '../../src/provision/backfill-queue.js';
import { WORKFLOW_LOG_RETENTION_DAYS, WORKFLOW_POLICY_NAME, workflowNames } from '../../src/provision/workflow.js';
import {
  eventsRolePolicy,
  eventsTrustPolicy,
  failedEventsQueuePolicy,
  objectCreatedPattern,
  ruleTargetRetryPolicy,
  stateMachinePolicy,
  stateMachineTrustPolicy,
} from '../../src/provision/workflow-documents.js';
import { DEFAULT_SETTINGS, EVERY_OPTION_SETTINGS, ONE_BUCKET_SETTINGS, WORKFLOW_SETTINGS } from '../helpers/export-settings.js';
import { defaultValues, resolveIntrinsics } from '../helpers/intrinsics.js';

const IDENTITY = { account: '123456789012', partition: 'aws' };
const API_ID = 'a1b2c3d4e5';
const DISTRIBUTION_ID = 'E2EXAMPLE12345';

function input(settings: StackSettings, format: ExportFormat, s3 = false): TemplateInput {
  return {
    settings,
    format,
    functionCode: s3 ? { kind: 's3', bucket: 'artifacts', key: 'fn.zip' } : { kind: 'local', file: 'function.zip' },
    layerContent: s3 ? { kind: 's3', bucket: 'artifacts', key: 'layer.zip' } : { kind: 'local', file: `sharp-layer-${settings.arch}.zip` },
    layerDescription: 'sharp 0.35.5 linux-x64 glibc sha256:00',
  };
}

interface Resource {
  Type: string;
  DependsOn?: string[];
  Properties: Record<string, unknown>;
}

/** The template with every Ref/Fn::Sub resolved to the parameter defaults, as CloudFormation would deploy it. */
function deployed(settings: StackSettings, format: ExportFormat): { resources: Record<string, Resource> } {
  const template = stackTemplate(input(settings, format)) as unknown as { Parameters: Record<string, { Default?: unknown }>; Resources: Record<string, Resource> };
  const region = settings.region ?? 'us-east-1';
  const values = { ...defaultValues(template, { ...IDENTITY, region }) };
  // A Ref to a resource resolves to its name, as CloudFormation's does for these types.
  for (const id of [LOGICAL_ID.sourceBucket, LOGICAL_ID.destBucket]) values[id] = `<${id}>`;
  values[LOGICAL_ID.layer] = '<layer version>';
  // The failure path: a topic's Ref is its ARN, a log group's its name, a queue's its URL.
  const model = stackModel(settings, IDENTITY, region);
  values[LOGICAL_ID.topic] = model.topicArn;
  values[LOGICAL_ID.logGroup] = model.logGroupName;
  values[LOGICAL_ID.failedEventsQueue] = '<queue url>';
  values[LOGICAL_ID.function] = settings.functionName;
  // The optional parts: an API's, integration's and authorizer's Ref is its ID, a distribution's too.
  values[LOGICAL_ID.httpApi] = API_ID;
  values[LOGICAL_ID.apiIntegration] = '<integration id>';
  values[LOGICAL_ID.apiAuthorizer] = '<authorizer id>';
  values[LOGICAL_ID.apiLogGroup] = apiNames(settings.stackName).logGroupName;
  values[LOGICAL_ID.cdnDistribution] = DISTRIBUTION_ID;
  // Workflow mode: a state machine's Ref is its ARN.
  values[LOGICAL_ID.stateMachine] = workflowNames(model).stateMachineArn;
  return { resources: resolveIntrinsics(template.Resources, values) as Record<string, Resource> };
}

const ALL = [
  ['default settings', DEFAULT_SETTINGS],
  ['every option on', EVERY_OPTION_SETTINGS],
  ['one bucket', ONE_BUCKET_SETTINGS],
] as const;

describe.each(ALL)('the exported template (%s)', (_name, settings) => {
  const model = stackModel(settings, IDENTITY, settings.region ?? 'us-east-1');

  it.each(['cloudformation', 'sam'] as const)('%s: grants the role exactly the statements init applies', (format) => {
    const { resources } = deployed(settings, format);
    const role = resources[LOGICAL_ID.role];
    const policies = role?.Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[];
    expect(policies).toHaveLength(1);
    expect(policies[0]?.PolicyName).toBe('img-resizer-function');
    // Same statements, same order, same text: the one renderer with other variables.
    expect(policies[0]?.PolicyDocument).toEqual(model.functionPolicy);
    expect(policiesEqual(policies[0]?.PolicyDocument, model.functionPolicy)).toBe(true);
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual(model.trustPolicy);
    expect(role?.Properties.RoleName).toBe(settings.roleName);
  });

  it.each(['cloudformation', 'sam'] as const)('%s: configures the function as init does', (format) => {
    const { resources } = deployed(settings, format);
    const fn = resources[LOGICAL_ID.function];
    expect(fn?.Type).toBe(format === 'sam' ? 'AWS::Serverless::Function' : 'AWS::Lambda::Function');
    expect(fn?.Properties).toMatchObject({
      FunctionName: settings.functionName,
      Runtime: stackRuntime(settings),
      Handler: 'index.handler',
      MemorySize: String(settings.memory),
      Timeout: String(settings.timeout),
      Architectures: [settings.arch],
      Layers: ['<layer version>'],
      Role: '<FunctionRole.Arn>',
      Description: `img-resizer stack ${settings.stackName}: resizes images uploaded to ${settings.sourceBucket}`,
    });
    // With the CDN on, the function also gets its address, as init's function step passes it.
    const cdnBaseUrl = cdnAliasList(settings)[0] === undefined ? 'https://<CdnDistribution.DomainName>' : `https://${cdnAliasList(settings)[0] ?? ''}`;
    expect((fn?.Properties.Environment as { Variables: unknown }).Variables).toEqual(settings.cdn === true ? { ...model.environment, CDN_BASE_URL: cdnBaseUrl } : model.environment);
  });

  it.each(['cloudformation', 'sam'] as const)('%s: has the failure path init provisions (topic, failed-events queue, retries, log group, JSON logs, PITR)', (format) => {
    const { resources } = deployed(settings, format);
    const operational = operationalSettings(settings);
    const topic = resources[LOGICAL_ID.topic];
    if (operational.notifications) expect(topic?.Properties).toMatchObject({ TopicName: model.topicName, KmsMasterKeyId: TOPIC_KMS_KEY });
    else expect(topic).toBeUndefined();
    expect(resources[LOGICAL_ID.failedEventsQueue]?.Properties).toMatchObject({
      QueueName: model.failedEventsQueueName,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: FAILED_EVENTS_RETENTION_SECONDS,
    });
    expect(resources[LOGICAL_ID.logGroup]?.Properties).toMatchObject({ LogGroupName: model.logGroupName, RetentionInDays: operational.logRetentionDays });
    expect(resources[LOGICAL_ID.asyncInvoke]?.Properties).toMatchObject({
      FunctionName: settings.functionName,
      MaximumRetryAttempts: operational.retryAttempts,
      MaximumEventAgeInSeconds: operational.maxEventAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: `<${LOGICAL_ID.failedEventsQueue}.Arn>` } },
    });
    expect(resources[LOGICAL_ID.function]?.Properties.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: model.logGroupName });
    const pitr = resources[LOGICAL_ID.table]?.Properties.PointInTimeRecoverySpecification;
    expect(pitr).toEqual(operational.pointInTimeRecovery ? { PointInTimeRecoveryEnabled: true } : undefined);
  });

  it('makes buckets private, encrypted, owner-enforced, TLS-only and tagged', () => {
    const { resources } = deployed(settings, 'cloudformation');
    const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.map(([, r]) => r.Properties.BucketName).sort()).toEqual([...new Set([settings.sourceBucket, settings.destBucket])].sort());
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        Tags: [{ Key: 'img-resizer:stack', Value: settings.stackName }],
      });
      const policy = Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket === `<${id}>`);
      const tlsOnly = {
        Sid: 'ImgResizerTlsOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`<${id}.Arn>`, `<${id}.Arn>/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      };
      // On the destination bucket with the CDN on, also the read statement for this distribution only.
      const isDest = bucket.Properties.BucketName === settings.destBucket;
      const cdnRead = {
        Sid: 'ImgResizerCdnRead',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: `<${id}.Arn>/resized*`,
        Condition: { StringEquals: { 'AWS:SourceArn': `arn:aws:cloudfront::${IDENTITY.account}:distribution/${DISTRIBUTION_ID}` } },
      };
      expect(policy?.Properties.PolicyDocument).toEqual({ Version: '2012-10-17', Statement: isDest && settings.cdn === true ? [tlsOnly, cdnRead] : [tlsOnly] });
    }
  });

  it('wires the trigger like init, without a cycle: the permission names the bucket by name, the bucket waits for it', () => {
    const { resources } = deployed(settings, 'cloudformation');
    const source = resources[LOGICAL_ID.sourceBucket];
    const includeRemovals = !operationalSettings(settings).keepOnDelete;
    const trigger = desiredTrigger({ id: 'x', functionArn: 'x', prefix: settings.prefix, suffix: settings.suffix, includeRemovals });
    expect(source?.DependsOn).toEqual([LOGICAL_ID.permission]);
    // Removals too unless --keep-on-delete, as init's trigger.
    expect(source?.Properties.NotificationConfiguration).toEqual({
      LambdaConfigurations: (includeRemovals ? ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] : ['s3:ObjectCreated:*']).map((event) => ({
        Event: event,
        Function: `<${LOGICAL_ID.function}.Arn>`,
        ...(trigger.Filter ? { Filter: { S3Key: { Rules: trigger.Filter.Key?.FilterRules } } } : {}),
      })),
    });
    expect(resources[LOGICAL_ID.permission]?.Properties).toEqual({
      FunctionName: `<${LOGICAL_ID.function}.Arn>`,
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: model.sourceBucketArn,
      SourceAccount: IDENTITY.account,
    });
    expect(dependencyCycle(stackTemplate(input(settings, 'cloudformation')).Resources as Record<string, unknown>)).toBeUndefined();
  });

  it('has an on-demand table keyed by ImageID', () => {
    const { resources } = deployed(settings, 'sam');
    expect(resources[LOGICAL_ID.table]?.Properties).toEqual({
      TableName: settings.table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'ImageID', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'ImageID', KeyType: 'HASH' }],
      ...(operationalSettings(settings).pointInTimeRecovery ? { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } } : {}),
      Tags: [{ Key: 'img-resizer:stack', Value: settings.stackName }],
    });
  });

  it.each(['cloudformation', 'sam'] as const)('%s: renders the same bytes every time', (format) => {
    expect(renderStackTemplate(input(settings, format))).toBe(renderStackTemplate(input({ ...settings }, format)));
    expect(renderStackTemplate(input(settings, format, true))).toBe(renderStackTemplate(input({ ...settings }, format, true)));
  });
});

/** The CloudFormation distribution config in the shape init's cdn step compares (DistributionShape). */
function cfnDistributionShape(config: Record<string, unknown>): DistributionShape {
  const origins = config.Origins as { DomainName: string; OriginAccessControlId: string }[];
  const behavior = config.DefaultCacheBehavior as Record<string, unknown>;
  const certificate = config.ViewerCertificate as { AcmCertificateArn?: string };
  return {
    enabled: config.Enabled === true,
    priceClass: String(config.PriceClass),
    httpVersion: String(config.HttpVersion),
    ipv6: config.IPV6Enabled === true,
    aliases: [...((config.Aliases as string[] | undefined) ?? [])].sort(),
    certificateArn: certificate.AcmCertificateArn,
    originDomain: origins[0]?.DomainName ?? '',
    originCount: origins.length,
    oacId: origins[0]?.OriginAccessControlId,
    viewerProtocolPolicy: String(behavior.ViewerProtocolPolicy),
    compress: behavior.Compress === true,
    cachePolicyId: behavior.CachePolicyId as string | undefined,
    responseHeadersPolicyId: behavior.ResponseHeadersPolicyId as string | undefined,
  };
}

const WITH_OPTIONAL_PARTS = [
  ['every option on', EVERY_OPTION_SETTINGS],
  ['one bucket', ONE_BUCKET_SETTINGS],
] as const;

describe.each(WITH_OPTIONAL_PARTS)('the optional parts (%s)', (_name, settings) => {
  const region = settings.region ?? 'us-east-1';
  const model = stackModel(settings, IDENTITY, region);
  const names = apiNames(settings.stackName);

  it.each(['cloudformation', 'sam'] as const)('%s: the API role has exactly the statements init applies', (format) => {
    const { resources } = deployed(settings, format);
    const role = resources[LOGICAL_ID.apiRole];
    const policies = role?.Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[];
    expect(role?.Properties.RoleName).toBe(names.roleName);
    expect(role?.Properties.AssumeRolePolicyDocument).toEqual(model.trustPolicy);
    expect(policies.map((p) => p.PolicyName)).toEqual([API_POLICY_NAME]);
    expect(policies[0]?.PolicyDocument).toEqual(renderApiFunctionPolicy(model));
  });

  it.each(['cloudformation', 'sam'] as const)('%s: the API function is configured as init configures it', (format) => {
    const { resources } = deployed(settings, format);
    const fn = resources[LOGICAL_ID.apiFunction];
    expect(fn?.Type).toBe(format === 'sam' ? 'AWS::Serverless::Function' : 'AWS::Lambda::Function');
    expect(fn?.Properties).toMatchObject({
      FunctionName: names.functionName,
      Handler: API_HANDLER,
      Runtime: stackRuntime(settings),
      Role: `<${LOGICAL_ID.apiRole}.Arn>`,
      MemorySize: String(settings.memory),
      Timeout: API_FUNCTION_TIMEOUT_S,
      Architectures: [settings.arch],
      Layers: ['<layer version>'],
    });
    expect((fn?.Properties.Environment as { Variables: unknown }).Variables).toEqual(apiFunctionEnvironment(model));
  });

  it('the HTTP API: CORS, integration, authorizer, routes, stage with throttling and access logs, permission, URL output', () => {
    const { resources } = deployed(settings, 'cloudformation');
    const auth = apiAuth(settings);
    const cors = apiCors(settings);
    expect(resources[LOGICAL_ID.httpApi]?.Properties).toEqual({
      Name: names.apiName,
      ProtocolType: 'HTTP',
      Description: `img-resizer stack ${settings.stackName}: uploads and image reads`,
      ...(cors === undefined ? {} : { CorsConfiguration: cors }),
      Tags: { 'img-resizer:stack': settings.stackName },
    });
    expect(resources[LOGICAL_ID.apiIntegration]?.Properties).toEqual({
      ApiId: API_ID,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: `<${LOGICAL_ID.apiFunction}.Arn>`,
      PayloadFormatVersion: '2.0',
    });
    const authorizer = resources[LOGICAL_ID.apiAuthorizer];
    if (auth.type === 'JWT') {
      expect(authorizer?.Properties).toEqual({
        ApiId: API_ID,
        Name: names.authorizerName,
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: auth.issuer, Audience: [auth.audience] },
      });
    } else {
      expect(authorizer).toBeUndefined();
    }
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey)).toEqual(Object.values(API_ROUTES));
    for (const route of routes) {
      const authorization = apiRouteAuthorization(settings, String(route.Properties.RouteKey));
      expect(route.Properties).toEqual({
        ApiId: API_ID,
        RouteKey: route.Properties.RouteKey,
        Target: 'integrations/<integration id>',
        AuthorizationType: authorization,
        ...(authorization === 'JWT' ? { AuthorizerId: '<authorizer id>' } : {}),
      });
    }
    const throttle = apiThrottle(settings);
    expect(resources[LOGICAL_ID.apiStage]?.Properties).toEqual({
      ApiId: API_ID,
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: throttle.rate, ThrottlingBurstLimit: throttle.burst },
      AccessLogSettings: { DestinationArn: `arn:aws:logs:${region}:${IDENTITY.account}:log-group:${names.logGroupName}`, Format: ACCESS_LOG_FORMAT },
      Tags: { 'img-resizer:stack': settings.stackName },
    });
    expect(resources[LOGICAL_ID.apiLogGroup]?.Properties).toMatchObject({ LogGroupName: names.logGroupName, RetentionInDays: API_LOG_RETENTION_DAYS });
    expect(resources[LOGICAL_ID.apiPermission]?.Properties).toEqual({
      FunctionName: `<${LOGICAL_ID.apiFunction}.Arn>`,
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      SourceArn: `arn:aws:execute-api:${region}:${IDENTITY.account}:${API_ID}/*`,
      SourceAccount: IDENTITY.account,
    });
    const outputs = stackTemplate(input(settings, 'cloudformation')).Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ApiUrl?.Value).toEqual({ 'Fn::GetAtt': [LOGICAL_ID.httpApi, 'ApiEndpoint'] });
  });

  it('the CDN: an OAC-signed distribution with the shape init applies, its domain in the outputs', () => {
    const { resources } = deployed(settings, 'cloudformation');
    expect(resources[LOGICAL_ID.cdnOriginAccessControl]?.Properties.OriginAccessControlConfig).toMatchObject({
      Name: oacName(settings.stackName),
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const distribution = resources[LOGICAL_ID.cdnDistribution]?.Properties.DistributionConfig as Record<string, unknown>;
    expect(distribution.Comment).toBe(distributionComment(settings.stackName));
    // No difference by the comparison init's cdn step makes between what it wants and what CloudFront has.
    const desired = desiredShape(settings, region, `<${LOGICAL_ID.cdnOriginAccessControl}.Id>`);
    expect(shapeDifferences(desired, cfnDistributionShape(distribution))).toEqual([]);
    const outputs = stackTemplate(input(settings, 'cloudformation')).Outputs as Record<string, { Value: unknown }>;
    expect(outputs.CdnDomainName?.Value).toEqual({ 'Fn::GetAtt': [LOGICAL_ID.cdnDistribution, 'DomainName'] });
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['CdnDistributionId', 'CdnBaseUrl']));
  });

  it('the --notify subscriptions: one per target, as init subscribes them', () => {
    const { resources } = deployed(settings, 'cloudformation');
    const subscriptions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SNS::Subscription');
    const targets = operationalSettings(settings).notifications ? (settings.notify ?? []) : [];
    // init's plan for a topic with no subscriptions yet: what it would subscribe, with which filter.
    const plan = planSubscriptions(targets, model.topicArn, []);
    expect(subscriptions.map(([id]) => id)).toEqual(targets.map((_t, index) => `NotifySubscription${index + 1}`));
    subscriptions.forEach(([, subscription], index) => {
      const op = plan.ops[index];
      if (op?.kind !== 'subscribe') throw new Error('init would subscribe every target');
      expect(subscription.Properties).toEqual({
        TopicArn: model.topicArn,
        Protocol: op.protocol,
        Endpoint: op.endpoint,
        ...(op.filterPolicy === undefined ? {} : { FilterPolicyScope: 'MessageAttributes', FilterPolicy: JSON.parse(op.filterPolicy) as unknown }),
        ...(op.protocol === 'sqs' || op.protocol === 'https' ? { RawMessageDelivery: true } : {}),
      });
    });
  });
});

const WORKFLOW_CASES = [
  ['every option on, Standard', WORKFLOW_SETTINGS],
  ['one bucket, notifications off, Express', { ...ONE_BUCKET_SETTINGS, orchestration: 'stepfunctions' }],
] as const satisfies readonly (readonly [string, StackSettings])[];

describe.each(WORKFLOW_CASES)('workflow mode (%s)', (_name, settings) => {
  const region = settings.region ?? 'us-east-1';
  const model = stackModel(settings, IDENTITY, region);
  const names = workflowNames(model);
  const topicArn = operationalSettings(settings).notifications ? model.topicArn : undefined;

  function workflowResources(format: ExportFormat): Record<string, Resource> {
    const { resources } = deployed(settings, format);
    return resources;
  }

  it.each(['cloudformation', 'sam'] as const)('%s: the roles have exactly the statements init applies', (format) => {
    const resources = workflowResources(format);
    const stateMachineRole = resources[LOGICAL_ID.stateMachineRole]?.Properties;
    expect(stateMachineRole?.RoleName).toBe(names.stateMachineRoleName);
    expect(stateMachineRole?.AssumeRolePolicyDocument).toEqual(stateMachineTrustPolicy(IDENTITY.account));
    expect(stateMachineRole?.Policies).toEqual([
      {
        PolicyName: WORKFLOW_POLICY_NAME,
        PolicyDocument: stateMachinePolicy({
          account: IDENTITY.account,
          functionArn: model.functionArn,
          tableArn: model.tableArn,
          topicArn,
          deadLetterQueueArn: model.failedEventsQueueArn,
          logDelivery: true,
        }),
      },
    ]);
    const eventsRole = resources[LOGICAL_ID.eventsRole]?.Properties;
    expect(eventsRole?.RoleName).toBe(names.eventsRoleName);
    expect(eventsRole?.AssumeRolePolicyDocument).toEqual(eventsTrustPolicy(IDENTITY.account));
    expect(eventsRole?.Policies).toEqual([{ PolicyName: WORKFLOW_POLICY_NAME, PolicyDocument: eventsRolePolicy(names.stateMachineArn) }]);
  });

  it('the state machine: the definition init renders, once the substitutions are made; its type and logging', () => {
    const resources = workflowResources('cloudformation');
    const machine = resources[LOGICAL_ID.stateMachine]?.Properties;
    // What the deployed resources' attributes would be (init's renderer takes real ARNs and URLs only).
    const queueUrl = `https://sqs.${region}.amazonaws.com/${IDENTITY.account}/${model.failedEventsQueueName}`;
    const deployedValues: Record<string, string> = { [`<${LOGICAL_ID.function}.Arn>`]: model.functionArn, '<queue url>': queueUrl };
    const substitutions = machine?.DefinitionSubstitutions as Record<string, string>;
    const substituted = JSON.parse(
      JSON.stringify(machine?.Definition).replace(/\$\{(\w+)\}/g, (_match, key: string) => {
        const value = substitutions[key] ?? `unsubstituted ${key}`;
        return deployedValues[value] ?? value;
      }),
    ) as unknown;
    expect(substituted).toEqual(
      renderStateMachineDefinition({
        stackName: settings.stackName,
        partition: IDENTITY.partition,
        functionArn: model.functionArn,
        table: settings.table,
        topicArn,
        deadLetterQueueUrl: queueUrl,
      }),
    );
    expect(machine?.StateMachineName).toBe(names.stateMachineName);
    expect(machine?.StateMachineType).toBe(settings.stateMachineType === 'standard' ? 'STANDARD' : 'EXPRESS');
    expect(machine?.RoleArn).toBe(`<${LOGICAL_ID.stateMachineRole}.Arn>`);
    const logging = loggingConfiguration(`<${LOGICAL_ID.workflowLogGroup}.Arn>`);
    expect(machine?.LoggingConfiguration).toEqual({
      Level: logging.level,
      IncludeExecutionData: logging.includeExecutionData,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: logging.destinations?.[0]?.cloudWatchLogsLogGroup?.logGroupArn } }],
    });
    expect(resources[LOGICAL_ID.workflowLogGroup]?.Properties).toMatchObject({ LogGroupName: names.logGroupName, RetentionInDays: WORKFLOW_LOG_RETENTION_DAYS });
  });

  it('the rule: init\'s pattern for the source bucket and trigger filter, targeting the state machine through its role', () => {
    const resources = workflowResources('cloudformation');
    expect(resources[LOGICAL_ID.uploadRule]?.Properties).toEqual({
      Name: names.ruleName,
      Description: `img-resizer stack ${settings.stackName}: uploads start the workflow`,
      State: 'ENABLED',
      EventPattern: objectCreatedPattern(settings.sourceBucket, { prefix: settings.prefix, suffix: settings.suffix }),
      Targets: [
        {
          Id: 'workflow',
          Arn: names.stateMachineArn,
          RoleArn: `<${LOGICAL_ID.eventsRole}.Arn>`,
          RetryPolicy: ruleTargetRetryPolicy(operationalSettings(settings).maxEventAgeSeconds),
          DeadLetterConfig: { Arn: `<${LOGICAL_ID.failedEventsQueue}.Arn>` },
        },
      ],
    });
  });

  it.each(['cloudformation', 'sam'] as const)("%s: the failed-events queue's policy is init's grant to the upload rule", (format) => {
    const resources = workflowResources(format);
    expect(resources[LOGICAL_ID.failedEventsQueuePolicy]).toEqual({
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: ['<queue url>'],
        PolicyDocument: failedEventsQueuePolicy({ queueArn: `<${LOGICAL_ID.failedEventsQueue}.Arn>`, ruleArn: `<${LOGICAL_ID.uploadRule}.Arn>` }),
      },
    });
  });

  it('the source bucket delivers to EventBridge instead of the function, and the resources form no cycle', () => {
    const resources = workflowResources('cloudformation');
    expect(resources[LOGICAL_ID.sourceBucket]?.Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    expect(dependencyCycle(stackTemplate(input(settings, 'cloudformation')).Resources as Record<string, unknown>)).toBeUndefined();
    expect(dependencyCycle(stackTemplate(input(settings, 'sam')).Resources as Record<string, unknown>)).toBeUndefined();
  });

  it.each(['cloudformation', 'sam'] as const)('%s: renders the same bytes every time', (format) => {
    expect(renderStackTemplate(input(settings, format))).toBe(renderStackTemplate(input({ ...settings }, format)));
  });
});

describe('the backfill queue (every option on)', () => {
  const settings = EVERY_OPTION_SETTINGS;
  const model = stackModel(settings, IDENTITY, settings.region ?? 'us-east-1');

  it.each(['cloudformation', 'sam'] as const)("%s: init's queue attributes and mapping, its URL as an output", (format) => {
    const { resources } = deployed(settings, format);
    const attributes = desiredBackfillQueueAttributes(model);
    const redrive = JSON.parse(attributes.RedrivePolicy ?? '{}') as { maxReceiveCount: number };
    expect(resources[LOGICAL_ID.backfillQueue]?.Properties).toEqual({
      QueueName: model.backfillQueueName,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: Number(attributes.VisibilityTimeout),
      MessageRetentionPeriod: Number(attributes.MessageRetentionPeriod),
      RedrivePolicy: { deadLetterTargetArn: `<${LOGICAL_ID.failedEventsQueue}.Arn>`, maxReceiveCount: redrive.maxReceiveCount },
      Tags: expect.any(Array) as unknown,
    });
    expect(VISIBILITY_TIMEOUT_FACTOR * (settings.timeout)).toBe(Number(attributes.VisibilityTimeout));
    const spec = queueMappingSpec(model);
    expect(spec.maximumConcurrency).toBe(20);
    expect(resources[LOGICAL_ID.backfillQueueMapping]?.Properties).toEqual({
      FunctionName: settings.functionName,
      EventSourceArn: `<${LOGICAL_ID.backfillQueue}.Arn>`,
      Enabled: true,
      BatchSize: spec.batchSize,
      ScalingConfig: { MaximumConcurrency: spec.maximumConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const outputs = (stackTemplate(input(settings, format)) as unknown as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    expect(outputs.BackfillQueueUrl?.Value).toEqual({ Ref: LOGICAL_ID.backfillQueue });
  });

  it('is left out without --backfill-queue', () => {
    const resources = stackTemplate(input({ ...settings, backfillQueue: false }, 'cloudformation')).Resources as Record<string, unknown>;
    expect(resources[LOGICAL_ID.backfillQueue]).toBeUndefined();
    expect(resources[LOGICAL_ID.backfillQueueMapping]).toBeUndefined();
  });
});

describe('the optional parts when off', () => {
  it('add nothing to the template', () => {
    const resources = stackTemplate(input(DEFAULT_SETTINGS, 'cloudformation')).Resources as unknown as Record<string, Resource>;
    const types = new Set(Object.values(resources).map((r) => r.Type));
    for (const type of ['AWS::ApiGatewayV2::Api', 'AWS::CloudFront::Distribution', 'AWS::SNS::Subscription']) expect(types.has(type), type).toBe(false);
  });
});

describe('artifact references', () => {
  it('are local paths for package/sam deploy, or S3 objects', () => {
    const local = stackTemplate(input(DEFAULT_SETTINGS, 'cloudformation')).Resources as unknown as Record<string, Resource>;
    expect(local[LOGICAL_ID.function]?.Properties.Code).toBe('function.zip');
    expect(local[LOGICAL_ID.layer]?.Properties.Content).toBe('sharp-layer-x86_64.zip');
    const s3 = stackTemplate(input(DEFAULT_SETTINGS, 'cloudformation', true)).Resources as unknown as Record<string, Resource>;
    expect(s3[LOGICAL_ID.function]?.Properties.Code).toEqual({ S3Bucket: 'artifacts', S3Key: 'fn.zip' });
    expect(s3[LOGICAL_ID.layer]?.Properties.Content).toEqual({ S3Bucket: 'artifacts', S3Key: 'layer.zip' });
    const sam = stackTemplate(input(DEFAULT_SETTINGS, 'sam', true)).Resources as unknown as Record<string, Resource>;
    expect(sam[LOGICAL_ID.function]?.Properties.CodeUri).toEqual({ Bucket: 'artifacts', Key: 'fn.zip' });
    expect(sam[LOGICAL_ID.layer]?.Properties.ContentUri).toEqual({ Bucket: 'artifacts', Key: 'layer.zip' });
  });

  it('escapes a trigger prefix that looks like a Fn::Sub reference', () => {
    const settings = { ...DEFAULT_SETTINGS, prefix: 'in/${x}/' };
    const { resources } = deployed(settings, 'cloudformation');
    const model = stackModel(settings, IDENTITY, 'us-east-1');
    expect((resources[LOGICAL_ID.role]?.Properties.Policies as { PolicyDocument: unknown }[])[0]?.PolicyDocument).toEqual(model.functionPolicy);
  });
});

/** A cycle among the resources' Ref / Fn::GetAtt / Fn::Sub / DependsOn edges, as CloudFormation would refuse it. */
function dependencyCycle(resources: Record<string, unknown>): string[] | undefined {
  const ids = new Set(Object.keys(resources));
  const edges = new Map<string, Set<string>>();
  const collect = (value: unknown, into: Set<string>): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) if (match[1] && ids.has(match[1])) into.add(match[1]);
    } else if (Array.isArray(value)) {
      for (const item of value) collect(item, into);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'Ref' && typeof item === 'string' && ids.has(item)) into.add(item);
        else if (key === 'Fn::GetAtt' && Array.isArray(item) && ids.has(String(item[0]))) into.add(String(item[0]));
        else if (key === 'DependsOn') for (const id of [item].flat()) into.add(String(id));
        else collect(item, into);
      }
    }
  };
  for (const [id, resource] of Object.entries(resources)) {
    const into = new Set<string>();
    collect(resource, into);
    edges.set(id, into);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): string[] | undefined => {
    if (state.get(id) === 'visiting') return [...trail, id];
    if (state.get(id) === 'done') return undefined;
    state.set(id, 'visiting');
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next, [...trail, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}
