import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetFunctionCommand, GetPolicyCommand, ListLayerVersionsCommand } from '@aws-sdk/client-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeContinuousBackupsCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetTopicAttributesCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { executeInit as runInit } from '../../src/commands/init.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { parsePolicyDocument } from '../../src/provision/policy.js';
import { INLINE_POLICY_NAME } from '../../src/provision/stack.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts, type DeployedTestStack } from '../helpers/deploy.js';
import { poll } from '../helpers/poll.js';

let stack: DeployedTestStack;
let clients: AwsClients;

beforeAll(async () => {
  stack = await deployTestStack();
  clients = await stack.context.clients();
});
afterAll(() => {
  stack.context.close();
});

describe('init from nothing', () => {
  it('creates every resource, and says so in the summary', () => {
    expect(stack.result.exitCode).toBe(0);
    expect(stack.result.upToDate).toBe(false);
    expect(stack.result.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'identity:unchanged',
      'source-bucket:applied',
      'dest-bucket:applied',
      'source-bucket-policy:applied',
      'dest-bucket-policy:applied',
      'table:applied',
      'table-recovery:applied',
      'log-group:applied',
      'topic:applied',
      'subscriptions:unchanged',
      'failed-events-queue:applied',
      'role:applied',
      'layer:applied',
      'function:applied',
      'async-invoke:applied',
      'permission:applied',
      'trigger:applied',
    ]);
    expect(stack.stdout()).toMatch(/Resource\s+Name\s+Action\s+Detail/);
    expect(stack.stdout()).toContain('is ready');
  });

  it('writes the resolved settings, without credentials, in the working directory', async () => {
    const written = JSON.parse(await readFile(path.join(stack.cwd, 'img-resizer.config.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(JSON.parse(JSON.stringify(stack.settings)));
    expect(written).toMatchObject({ sizes: 'thumbnail=200x200', format: 'png', memory: 1024, timeout: 60, region: 'us-east-1' });
    expect(JSON.stringify(written)).not.toMatch(/secret|accessKey|token/i);
  });

  it('makes both buckets private, encrypted, owner-enforced and tagged', async () => {
    for (const bucket of [stack.settings.sourceBucket, stack.settings.destBucket]) {
      const block = await clients.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
      expect(block.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
      const encryption = await clients.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      expect(encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
      const ownership = await clients.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }));
      expect(ownership.OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('BucketOwnerEnforced');
      const tags = await clients.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
      expect(tags.TagSet).toContainEqual({ Key: 'img-resizer:stack', Value: stack.settings.stackName });
    }
  });

  it('creates an on-demand table keyed by ImageID (S)', async () => {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: stack.settings.table }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      KeySchema: [{ AttributeName: 'ImageID', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'ImageID', AttributeType: 'S' }],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    });
  });

  it('creates a role only Lambda may assume, granting exactly what the function uses', async () => {
    const { Role } = await clients.iam.send(new GetRoleCommand({ RoleName: stack.settings.roleName }));
    const trust = parsePolicyDocument(Role?.AssumeRolePolicyDocument) as { Statement: { Principal: unknown; Action: unknown }[] };
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]).toMatchObject({ Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' });

    const { PolicyDocument } = await clients.iam.send(new GetRolePolicyCommand({ RoleName: stack.settings.roleName, PolicyName: INLINE_POLICY_NAME }));
    const policy = parsePolicyDocument(PolicyDocument) as { Statement: { Effect: string; Action: string[]; Resource: string[] }[] };
    const { account } = await stack.context.identity();
    const { sourceBucket, destBucket, table, functionName } = stack.settings;
    const grants = policy.Statement.flatMap((s) => s.Action.flatMap((a) => s.Resource.map((r) => `${s.Effect} ${a} ${r}`)));
    expect(grants.sort()).toEqual(
      [
        `Allow s3:GetObject arn:aws:s3:::${sourceBucket}/*`,
        `Allow s3:ListBucket arn:aws:s3:::${sourceBucket}`,
        `Allow s3:PutObject arn:aws:s3:::${destBucket}/resized-*`,
        `Allow s3:PutObject arn:aws:s3:::${destBucket}/resized/*`,
        `Allow dynamodb:PutItem arn:aws:dynamodb:us-east-1:${account}:table/${table}`,
        `Allow logs:CreateLogGroup arn:aws:logs:us-east-1:${account}:log-group:/aws/lambda/${functionName}:*`,
        `Allow logs:CreateLogStream arn:aws:logs:us-east-1:${account}:log-group:/aws/lambda/${functionName}:log-stream:*`,
        `Allow logs:PutLogEvents arn:aws:logs:us-east-1:${account}:log-group:/aws/lambda/${functionName}:log-stream:*`,
        `Allow s3:DeleteObject arn:aws:s3:::${destBucket}/resized-*`,
        `Allow s3:DeleteObject arn:aws:s3:::${destBucket}/resized/*`,
        `Allow sns:Publish arn:aws:sns:us-east-1:${account}:${stack.settings.stackName}-outcomes`,
        `Allow sqs:SendMessage arn:aws:sqs:us-east-1:${account}:${stack.settings.stackName}-failed-events`,
      ].sort(),
    );
  });

  it('deploys the function with its layer, settings and environment', async () => {
    const artifacts = await testArtifacts();
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: stack.settings.functionName }));
    const { LayerVersions } = await clients.lambda.send(new ListLayerVersionsCommand({ LayerName: stack.settings.layerName }));
    expect(LayerVersions).toHaveLength(1);
    expect(LayerVersions?.[0]?.Description).toContain(`sha256:${artifacts.layerZip.sha256}`);
    expect(Configuration).toMatchObject({
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 60,
      Architectures: [stack.settings.arch],
      CodeSha256: artifacts.functionZip.codeSha256,
      Role: (await clients.iam.send(new GetRoleCommand({ RoleName: stack.settings.roleName }))).Role?.Arn,
      Layers: [expect.objectContaining({ Arn: LayerVersions?.[0]?.LayerVersionArn })],
      State: 'Active',
      LastUpdateStatus: 'Successful',
    });
    expect(Configuration?.Environment?.Variables).toMatchObject({
      DEST_BUCKET: stack.settings.destBucket,
      TABLE_NAME: stack.settings.table,
      SOURCE_BUCKET: stack.settings.sourceBucket,
      SIZES: 'thumbnail=200x200',
      OUTPUT_FORMAT: 'png',
      FIT: 'cover',
    });
  });

  it('lets S3 (only from the source bucket and account) invoke the function, and wires the trigger', async () => {
    const { account } = await stack.context.identity();
    const { Policy } = await clients.lambda.send(new GetPolicyCommand({ FunctionName: stack.settings.functionName }));
    const statements = (JSON.parse(Policy ?? '{}') as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Condition: { ArnLike: { 'AWS:SourceArn': `arn:aws:s3:::${stack.settings.sourceBucket}` }, StringEquals: { 'AWS:SourceAccount': account } },
      }),
    ]);
    const notification = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: stack.settings.sourceBucket }));
    expect(notification.LambdaFunctionConfigurations).toEqual([
      expect.objectContaining({
        Id: `img-resizer-${stack.settings.stackName}`,
        LambdaFunctionArn: `arn:aws:lambda:us-east-1:${account}:function:${stack.settings.functionName}`,
        Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
      }),
    ]);
  });
});

describe('secure defaults and the failure path', () => {
  it('creates the log group with 30 days retention, and the function logs JSON into it', async () => {
    const logGroupName = `/aws/lambda/${stack.settings.functionName}`;
    const { logGroups } = await clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName }));
    expect(logGroups?.find((g) => g.logGroupName === logGroupName)?.retentionInDays).toBe(30);
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: stack.settings.functionName }));
    expect(Configuration?.LoggingConfig).toMatchObject({ LogFormat: 'JSON', LogGroup: logGroupName });
  });

  it('turns on point-in-time recovery on the table', async () => {
    const { ContinuousBackupsDescription } = await clients.dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: stack.settings.table }));
    expect(ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
  });

  it('creates the outcomes topic encrypted with alias/aws/sns and hands its ARN to the function', async () => {
    const { account } = await stack.context.identity();
    const topicArn = `arn:aws:sns:us-east-1:${account}:${stack.settings.stackName}-outcomes`;
    const { Attributes } = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    expect(Attributes?.KmsMasterKeyId).toBe('alias/aws/sns');
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: stack.settings.functionName }));
    expect(Configuration?.Environment?.Variables?.NOTIFY_TOPIC_ARN).toBe(topicArn);
  });

  it('sends events the function failed on after 2 retries within 6 hours to an encrypted queue keeping them 14 days', async () => {
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: `${stack.settings.stackName}-failed-events` }));
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '1209600' });
    const config = await clients.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: stack.settings.functionName }));
    expect(config).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600, DestinationConfig: { OnFailure: { Destination: Attributes?.QueueArn } } });
  });
});

describe('running init again', () => {
  it('with nothing changed sends no request that changes state, and says all is up to date', async () => {
    const again = await localTestContext({}, stack.cwd);
    const result = await runInit(again.context, { artifacts: await testArtifacts() });
    expect(result).toMatchObject({ exitCode: 0, upToDate: true });
    expect(again.recorder.mutating()).toEqual([]);
    expect(again.stdout()).toContain('Everything is up to date; nothing changed.');
    again.context.close();
  });

  it('with --dry-run prints the plan of a change and sends nothing that changes state', async () => {
    const dry = await localTestContext({ json: true }, stack.cwd);
    const result = await runInit(dry.context, { artifacts: await testArtifacts(), memory: 2048, dryRun: true });
    expect(dry.recorder.mutating()).toEqual([]);
    const document = JSON.parse(dry.stdout()) as { dryRun: boolean; upToDate: boolean; steps: { id: string; action: string; status: string; changes: string[] }[] };
    expect(document).toMatchObject({ dryRun: true, upToDate: false });
    expect(document.steps.find((s) => s.id === 'function')).toMatchObject({ action: 'update', status: 'planned', changes: ['memory 1024 → 2048 MB'] });
    expect(result.steps.filter((s) => s.action !== 'no-op').map((s) => s.id)).toEqual(['function']);
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: stack.settings.functionName }));
    expect(Configuration?.MemorySize).toBe(1024);
    // the settings file keeps what was deployed
    expect(JSON.parse(await readFile(path.join(stack.cwd, 'img-resizer.config.json'), 'utf8'))).toMatchObject({ memory: 1024 });
    dry.context.close();
  });

  it('updates a changed policy and setting in place, and keeps other notification configurations', async () => {
    const { sourceBucket, roleName, functionName } = stack.settings;
    // Someone widened the policy by hand, and another tool added its own notification on the bucket.
    await clients.iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: INLINE_POLICY_NAME,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      }),
    );
    const current = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: sourceBucket }));
    const foreign = { Id: 'audit', LambdaFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:audit', Events: ['s3:ObjectRestore:Completed' as const] };
    await clients.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: sourceBucket,
        NotificationConfiguration: { LambdaFunctionConfigurations: [foreign, ...(current.LambdaFunctionConfigurations ?? [])] },
      }),
    );

    const again = await localTestContext({}, stack.cwd);
    const result = await runInit(again.context, { artifacts: await testArtifacts(), timeout: 90 });
    expect(result.steps.filter((s) => s.action !== 'no-op').map((s) => `${s.id}:${s.action}`)).toEqual(['role:update', 'function:update']);
    expect(again.recorder.mutating().map((r) => `${r.service}:${r.operation}`)).toEqual(['iam:PutRolePolicy', 'lambda:UpdateFunctionConfiguration']);

    const { PolicyDocument } = await clients.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME }));
    expect(JSON.stringify(parsePolicyDocument(PolicyDocument))).not.toContain('s3:*');
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: functionName }));
    expect(Configuration).toMatchObject({ Timeout: 90, LastUpdateStatus: 'Successful' });
    const notification = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: sourceBucket }));
    expect(notification.LambdaFunctionConfigurations?.map((c) => c.Id).sort()).toEqual(['audit', `img-resizer-${stack.settings.stackName}`].sort());
    again.context.close();
  });
});

describe('a role that grants more than the function uses', () => {
  it('loses its managed and extra inline policies on the next init', async () => {
    const { roleName } = stack.settings;
    const { Policy } = await clients.iam.send(
      new CreatePolicyCommand({
        PolicyName: `${stack.settings.stackName}-full-access`,
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
      }),
    );
    const policyArn = Policy?.Arn ?? '';
    await clients.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
    await clients.iam.send(
      new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'hand-made', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }) }),
    );

    const again = await localTestContext({}, stack.cwd);
    const result = await runInit(again.context, { artifacts: await testArtifacts() });
    expect(result.steps.find((s) => s.id === 'role')).toMatchObject({ action: 'update', changes: [`detach managed policy ${policyArn}`, 'delete inline policy hand-made'] });
    expect(again.recorder.mutating().map((r) => `${r.service}:${r.operation}`)).toEqual(['iam:DetachRolePolicy', 'iam:DeleteRolePolicy']);
    again.context.close();
    expect((await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? []).toEqual([]);
    expect((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames).toEqual([INLINE_POLICY_NAME]);
  });
});

describe('the deployed pipeline', () => {
  it('resizes an uploaded image and records a SUCCEEDED item', async () => {
    const key = 'photos/cat.jpg';
    const image = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer();
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: image, ContentType: 'image/jpeg' }));

    const output = await poll('the resized output', () =>
      clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.destBucket, Key: 'resized-photos/cat.png' })),
    );
    expect(output.ContentType).toBe('image/png');
    const item = await poll('the SUCCEEDED metadata item', async () => {
      const { Item } = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, key) } }));
      return Item?.Status === 'SUCCEEDED' ? Item : undefined;
    });
    expect(item).toMatchObject({ OriginalFile: key, ResizedFile: 'resized-photos/cat.png', OriginalWidth: 640, OriginalHeight: 480 });
  });
});

describe('removals', () => {
  it('removing an upload removes its outputs and marks its item DELETED', async () => {
    const key = 'photos/gone.jpg';
    const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 20, g: 120, b: 40 } } }).jpeg().toBuffer();
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: image, ContentType: 'image/jpeg' }));
    await poll('the resized output', () => clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.destBucket, Key: 'resized-photos/gone.png' })));
    await clients.s3.send(new DeleteObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key }));
    const item = await poll('the DELETED metadata item', async () => {
      const { Item } = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, key) } }));
      return Item?.Status === 'DELETED' ? Item : undefined;
    });
    expect(item.Status).toBe('DELETED');
    // The function marks the item DELETED before it deletes the outputs (a retry then finds the item settled), so
    // the output goes a moment after the item changes.
    const gone = await poll('the output removed', () =>
      clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.destBucket, Key: 'resized-photos/gone.png' })).then(
        () => undefined,
        () => true,
      ),
    );
    expect(gone).toBe(true);
  });

  it('with --keep-on-delete the trigger ignores removals and the role loses s3:DeleteObject', async () => {
    const again = await localTestContext({}, stack.cwd);
    const result = await runInit(again.context, { artifacts: await testArtifacts(), keepOnDelete: true });
    expect(result.exitCode).toBe(0);
    again.context.close();
    const notification = await clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: stack.settings.sourceBucket }));
    expect(notification.LambdaFunctionConfigurations?.find((c) => c.Id === `img-resizer-${stack.settings.stackName}`)?.Events).toEqual(['s3:ObjectCreated:*']);
    const { PolicyDocument } = await clients.iam.send(new GetRolePolicyCommand({ RoleName: stack.settings.roleName, PolicyName: INLINE_POLICY_NAME }));
    expect(JSON.stringify(parsePolicyDocument(PolicyDocument))).not.toContain('s3:DeleteObject');
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: stack.settings.functionName }));
    expect(Configuration?.Environment?.Variables?.KEEP_ON_DELETE).toBe('true');
  });

  it('with --no-notifications the topic goes and the function stops publishing', async () => {
    const again = await localTestContext({}, stack.cwd);
    const result = await runInit(again.context, { artifacts: await testArtifacts(), notifications: false });
    expect(result.steps.find((s) => s.id === 'topic')).toMatchObject({ action: 'delete', status: 'applied' });
    again.context.close();
    const { account } = await stack.context.identity();
    const topics = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: `arn:aws:sns:us-east-1:${account}:${stack.settings.stackName}-outcomes` })).then(
      () => 'exists',
      () => 'gone',
    );
    expect(topics).toBe('gone');
    const { Configuration } = await clients.lambda.send(new GetFunctionCommand({ FunctionName: stack.settings.functionName }));
    expect(Configuration?.Environment?.Variables?.NOTIFY_TOPIC_ARN).toBeUndefined();
  });
});
