import { describe, expect, it } from 'vitest';
import type { StackSettings } from '../../src/config/settings.js';
import { LOGICAL_ID, renderStackTemplate, stackTemplate, type ExportFormat, type TemplateInput } from '../../src/export/template.js';
import { policiesEqual } from '../../src/provision/policy.js';
import { operationalSettings } from '../../src/config/stack-settings.js';
import { FAILED_EVENTS_RETENTION_SECONDS, TOPIC_KMS_KEY, stackModel } from '../../src/provision/stack.js';
import { desiredTrigger } from '../../src/provision/trigger.js';
import { DEFAULT_SETTINGS, EVERY_OPTION_SETTINGS, ONE_BUCKET_SETTINGS } from '../helpers/export-settings.js';
import { defaultValues, resolveIntrinsics } from '../helpers/intrinsics.js';

const IDENTITY = { account: '123456789012', partition: 'aws' };

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
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: String(settings.memory),
      Timeout: String(settings.timeout),
      Architectures: [settings.arch],
      Layers: ['<layer version>'],
      Role: '<FunctionRole.Arn>',
      Description: `img-resizer stack ${settings.stackName}: resizes images uploaded to ${settings.sourceBucket}`,
    });
    expect((fn?.Properties.Environment as { Variables: unknown }).Variables).toEqual(model.environment);
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
      expect(policy?.Properties.PolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ImgResizerTlsOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [`<${id}.Arn>`, `<${id}.Arn>/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      });
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
