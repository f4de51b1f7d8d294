import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  type Capability,
} from '@aws-sdk/client-cloudformation';
import { GetApisCommand, GetRoutesCommand, GetStageCommand } from '@aws-sdk/client-apigatewayv2';
import { GetDistributionCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { CreateBucketCommand, GetBucketNotificationConfigurationCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { StackSettings } from '../../src/config/settings.js';
import { describeTable } from '../../src/aws/dynamodb.js';
import { getFunction } from '../../src/aws/lambda.js';
import { getItem } from '../../src/aws/metadata-table.js';
import { apiInvokeUrl } from '../../src/aws/apigateway.js';
import { emptyBucket, headBucket } from '../../src/aws/s3.js';
import { createQueue, deleteQueue, getQueueAttributes, receiveMessages } from '../../src/aws/sqs.js';
import { describeStateMachine } from '../../src/aws/stepfunctions.js';
import { listQueueMappings } from '../../src/aws/event-source-mapping.js';
import { BACKFILL_BATCH_SIZE } from '../../src/provision/backfill-queue.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../src/aws/target.js';
import type { ExportFormat } from '../../src/export/template.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { exportStack } from '../../src/operations/export.js';
import { apiNames } from '../../src/provision/api.js';
import { distributionComment } from '../../src/provision/cdn.js';
import { defaultRuntime } from '../../src/runtimes.js';
import { localTestContext } from '../helpers/context.js';
import { hostArch, uniqueStackName } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { installMiniStackFull } from '../helpers/python-tools.js';

function settingsFor(stackName: string, overrides: Partial<StackSettings> = {}): StackSettings {
  return {
    stackName,
    region: LOCAL_REGION,
    sourceBucket: `${stackName}-source`,
    destBucket: `${stackName}-dest`,
    table: `${stackName}-metadata`,
    functionName: `${stackName}-resize`,
    roleName: `${stackName}-function-role`,
    layerName: `${stackName}-sharp`,
    sizes: 'thumbnail=200x200',
    format: 'png',
    fit: 'cover',
    // MiniStack runs the function on this host, so the layer must hold sharp for the host's CPU.
    arch: hostArch(),
    memory: 1024,
    timeout: 60,
    ...overrides,
  };
}

async function waitForFinalItem(documents: Parameters<typeof getItem>[0], table: string, imageId: string): Promise<Awaited<ReturnType<typeof getItem>>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const item = await getItem(documents, table, imageId);
    // The function writes the item once, when it is done (SUCCEEDED or FAILED).
    if (item || Date.now() > deadline) return item;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Exports the stack with --artifact-bucket (MiniStack's CloudFormation takes S3 references; local paths are
 * for `aws cloudformation package` / `sam deploy`, which upload them first), deploys it with CreateStack,
 * uploads a photo, checks the outputs and the SUCCEEDED item, then deletes the stack and checks it is gone.
 */
type LocalClients = Awaited<ReturnType<Awaited<ReturnType<typeof localTestContext>>['context']['clients']>>;

/** More checks on a deployed stack, after the upload's item SUCCEEDED and before the stack is deleted. */
type DeployedChecks = (deployed: { clients: LocalClients; outputs: Record<string, string | undefined>; endpoint: string; key: string }) => Promise<void>;

async function deployUploadDelete(endpoint: string, format: ExportFormat, settings: StackSettings, key: string, checks?: DeployedChecks): Promise<void> {
  const test = await localTestContext({}, undefined, endpoint);
  const clients = await test.context.clients();
  const cloudformation = new CloudFormationClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-export-deploy-'));
  try {
    const artifactBucket = `${settings.stackName}-artifacts`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: artifactBucket }));
    const exported = await exportStack({ settings, format, outDir, artifactBucket, s3: clients.s3 });
    const [functionUri, layerUri] = exported.artifacts.map((a) => a.s3Uri);
    expect(functionUri).toMatch(new RegExp(`^s3://${artifactBucket}/img-resizer/${settings.stackName}/function-[0-9a-f]{64}\\.zip$`));
    expect(layerUri).toMatch(new RegExp(`^s3://${artifactBucket}/img-resizer/${settings.stackName}/sharp-layer-${settings.arch}-[0-9a-f]{64}\\.zip$`));
    const capabilities: Capability[] = format === 'sam' ? ['CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'] : ['CAPABILITY_NAMED_IAM'];
    await cloudformation.send(
      new CreateStackCommand({ StackName: settings.stackName, TemplateBody: await readFile(exported.templatePath, 'utf8'), Capabilities: capabilities }),
    );
    await waitUntilStackCreateComplete({ client: cloudformation, maxWaitTime: 180, minDelay: 1, maxDelay: 3 }, { StackName: settings.stackName });
    const stack = (await cloudformation.send(new DescribeStacksCommand({ StackName: settings.stackName }))).Stacks?.[0];
    expect(stack?.StackStatus).toBe('CREATE_COMPLETE');
    const outputs: Record<string, string | undefined> = Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue]));
    expect(outputs.SourceBucketName).toBe(settings.sourceBucket);
    expect(outputs.DestinationBucketName).toBe(settings.destBucket);
    expect(outputs.MetadataTableName).toBe(settings.table);
    expect(outputs.FunctionArn).toMatch(new RegExp(`:function:${settings.functionName}$`));

    await clients.s3.send(new PutObjectCommand({ Bucket: settings.sourceBucket, Key: key, Body: await photo(640, 480), ContentType: 'image/jpeg' }));
    const item = await waitForFinalItem(clients.documents, settings.table, imageIdFor(settings.sourceBucket, key));
    expect(item?.Status).toBe('SUCCEEDED');
    expect(item?.Outputs.map((o) => o.Size).sort()).toEqual(settings.sizes.split(',').map((s) => s.split('=')[0]).sort());
    for (const output of item?.Outputs ?? []) {
      const head = await clients.s3.send(new HeadObjectCommand({ Bucket: settings.destBucket, Key: output.Key }));
      expect(head.ContentLength).toBe(output.Bytes);
    }

    await checks?.({ clients, outputs, endpoint, key });

    // CloudFormation deletes only empty buckets, as `destroy` empties them first.
    await emptyBucket(clients.s3, settings.sourceBucket);
    await emptyBucket(clients.s3, settings.destBucket);
    await cloudformation.send(new DeleteStackCommand({ StackName: settings.stackName }));
    await waitUntilStackDeleteComplete({ client: cloudformation, maxWaitTime: 180, minDelay: 1, maxDelay: 3 }, { StackName: settings.stackName });
    expect(await headBucket(clients.s3, settings.sourceBucket)).toEqual({ kind: 'absent' });
    expect(await headBucket(clients.s3, settings.destBucket)).toEqual({ kind: 'absent' });
    expect(await getFunction(clients.lambda, settings.functionName)).toBeUndefined();
    expect(await describeTable(clients.dynamodb, settings.table)).toBeUndefined();
    if (settings.api === true) {
      expect(await getFunction(clients.lambda, apiNames(settings.stackName).functionName)).toBeUndefined();
      const apis = await clients.apigateway.send(new GetApisCommand({}));
      expect(apis.Items?.filter((api) => api.Name === apiNames(settings.stackName).apiName)).toEqual([]);
    }
    if (settings.cdn === true) {
      const distributions = await clients.cloudfront.send(new ListDistributionsCommand({}));
      expect((distributions.DistributionList?.Items ?? []).filter((d) => d.Comment === distributionComment(settings.stackName))).toEqual([]);
    }
  } finally {
    cloudformation.destroy();
    test.context.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

describe('the exported CloudFormation template on the local stack', () => {
  it('deploys, resizes an upload (trigger prefix and suffix, several sizes) and deletes', async () => {
    const name = uniqueStackName('cfn');
    const settings = settingsFor(name, { sizes: 'thumb=200x200,medium=800x600', format: 'webp', prefix: 'uploads/', suffix: '.jpg' });
    await deployUploadDelete(inject('ministackEndpoint'), 'cloudformation', settings, 'uploads/cat.jpg');
  });
});

/**
 * The template with every optional part on (the HTTP API with JWT auth and public reads, the CDN on an alias,
 * --notify subscriptions), deployed, checked part by part, and deleted.
 */
async function deployEveryOption(endpoint: string, format: ExportFormat): Promise<void> {
  const name = uniqueStackName(format === 'sam' ? 'samall' : 'cfnall');
  const test = await localTestContext({}, undefined, endpoint);
  const clients = await test.context.clients();
  // The subscriber's queue is the operator's, made before the stack (init subscribes it, it does not make it).
  const subscriberQueue = await createQueue(clients.sqs, `${name}-subscriber`, {}, {});
  const subscriberArn = (await getQueueAttributes(clients.sqs, subscriberQueue))?.QueueArn ?? '';
  const alias = `img-${name}.example.com`;
  const settings = settingsFor(name, {
    sizes: 'thumb=200x200,medium=800x600',
    format: 'webp',
    prefix: 'uploads/',
    suffix: '.jpg',
    logRetentionDays: 90,
    retryAttempts: 1,
    maxEventAgeSeconds: 3600,
    notify: [{ endpoint: subscriberArn, filter: { status: ['SUCCEEDED'] } }, { endpoint: 'ops@example.com' }],
    // Not labels or moderation: MiniStack has no Rekognition (labels-local.test.ts runs them against moto);
    // what they change in the template (environment, role statement) is checked by the unit test and cfn-lint.
    cacheControl: 'public, max-age=600',
    api: true,
    apiPresets: 'card=600x400:webp',
    apiJwtIssuer: 'https://auth.example.com/',
    apiJwtAudience: 'photos-app',
    apiPublicReads: true,
    apiCorsOrigin: 'https://photos.example.com',
    apiThrottleRate: 20,
    apiThrottleBurst: 40,
    cdn: true,
    cdnPriceClass: 'PriceClass_200',
    cdnAliases: alias,
    cdnCertificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/0b7e2c1a-9f1d-4a57-8f5e-3c2d1e0f9a8b',
    backfillQueue: true,
    queueMaxConcurrency: 5,
  });
  await deployUploadDelete(endpoint, format, settings, 'uploads/cat.jpg', async ({ clients: deployed, outputs, key }) => {
    // The backfill queue (issue 15): its URL in the outputs, one mapping from it to the function with init's values.
    expect(outputs.BackfillQueueUrl).toMatch(new RegExp(`/${name}-backfill$`));
    const backfillQueueArn = (await getQueueAttributes(deployed.sqs, outputs.BackfillQueueUrl ?? ''))?.QueueArn ?? '';
    const mappings = await listQueueMappings(deployed.lambda, settings.functionName, backfillQueueArn);
    expect(mappings.map((m) => [m.BatchSize, m.ScalingConfig?.MaximumConcurrency, m.FunctionResponseTypes])).toEqual([[BACKFILL_BATCH_SIZE, 5, ['ReportBatchItemFailures']]]);

    // The function addresses its outputs through the CDN's alias (CDN_BASE_URL), with the stack's Cache-Control.
    const item = await getItem(deployed.documents, settings.table, imageIdFor(settings.sourceBucket, key));
    for (const output of item?.Outputs ?? []) expect(output.Url).toBe(`https://${alias}/${output.Key}`);
    const firstOutput = item?.Outputs[0];
    const head = await deployed.s3.send(new HeadObjectCommand({ Bucket: settings.destBucket, Key: firstOutput?.Key ?? '' }));
    expect(head.CacheControl).toBe('public, max-age=600');

    // The distribution: OAC-signed, the price class and alias, the domain in the outputs.
    const distribution = (await deployed.cloudfront.send(new GetDistributionCommand({ Id: outputs.CdnDistributionId ?? '' }))).Distribution;
    expect(distribution?.DomainName).toBe(outputs.CdnDomainName);
    expect(distribution?.DistributionConfig?.PriceClass).toBe('PriceClass_200');
    expect(distribution?.DistributionConfig?.Aliases?.Items).toEqual([alias]);
    expect(distribution?.DistributionConfig?.Origins?.Items?.[0]?.OriginAccessControlId).toMatch(/\S/);

    // The subscriber got the outcome, raw (the function's JSON, not SNS's envelope), as the filter lets through.
    const messages = await receiveMessages(deployed.sqs, subscriberQueue, { waitSeconds: 10 });
    const outcomes = messages.map((m) => JSON.parse(m.Body ?? '{}') as { type?: string; imageId?: string });
    expect(outcomes.map((o) => o.type)).toContain('image.processed');

    // The API: the routes, the JWT authorizer, the throttled stage with access logs; a public read answers.
    const apiId = (await deployed.apigateway.send(new GetApisCommand({}))).Items?.find((api) => api.Name === apiNames(name).apiName)?.ApiId ?? '';
    expect(outputs.ApiUrl).toContain(apiId);
    const routes = await deployed.apigateway.send(new GetRoutesCommand({ ApiId: apiId }));
    expect(routes.Items?.map((r) => `${r.RouteKey}:${r.AuthorizationType}`).sort()).toEqual(['GET /images/{proxy+}:NONE', 'POST /uploads:JWT']);
    const stage = await deployed.apigateway.send(new GetStageCommand({ ApiId: apiId, StageName: '$default' }));
    // Not the throttling: MiniStack's CloudFormation keeps DefaultRouteSettings under the template's key case
    // and GetStage then answers them empty (an emulator gap named in the README); the unit test checks them.
    expect(stage.AutoDeploy).toBe(true);
    expect(stage.AccessLogSettings?.DestinationArn).toMatch(new RegExp(`:log-group:/aws/apigateway/${name}-api$`));
    const read = await fetch(`${apiInvokeUrl({ apiId, apiEndpoint: outputs.ApiUrl }, endpoint)}/images/${key}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { Status?: string }).Status).toBe('SUCCEEDED');
  }).finally(async () => {
    await deleteQueue(clients.sqs, subscriberQueue);
    test.context.close();
  });
}

describe('the exported every-option CloudFormation template on the local stack', () => {
  it('deploys the HTTP API, the CDN, the --notify subscriptions and the backfill queue with its mapping, serves the item through the API, delivers to the subscriber, and deletes', async () => {
    await deployEveryOption(inject('ministackEndpoint'), 'cloudformation');
  });
});

describe('the exported workflow-mode template on the local stack', () => {
  it('deploys the state machine, its roles, rule and log group; an upload goes through EventBridge and the state machine; deletes', async () => {
    const endpoint = inject('ministackEndpoint');
    const name = uniqueStackName('cfnsfn');
    // Standard: its executions are listed with their status (Express executions are not).
    const settings = settingsFor(name, { orchestration: 'stepfunctions', stateMachineType: 'standard', prefix: 'uploads/' });
    let stateMachineArn = '';
    await deployUploadDelete(endpoint, 'cloudformation', settings, 'uploads/fox.jpg', async ({ clients: deployed, outputs }) => {
      // The upload's item came through the rule and an execution: the bucket has no direct trigger.
      const notifications = await deployed.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: settings.sourceBucket }));
      expect(notifications.LambdaFunctionConfigurations ?? []).toEqual([]);
      expect(notifications.EventBridgeConfiguration).toBeDefined();
      expect(outputs.StateMachineArn).toMatch(new RegExp(`:stateMachine:${name}-workflow$`));
      const executions = await deployed.sfn.send(new ListExecutionsCommand({ stateMachineArn: outputs.StateMachineArn ?? '' }));
      expect(executions.executions?.map((e) => e.status)).toEqual(['SUCCEEDED']);
      stateMachineArn = outputs.StateMachineArn ?? '';
    });
    const test = await localTestContext({}, undefined, endpoint);
    try {
      expect(await describeStateMachine((await test.context.clients()).sfn, stateMachineArn)).toBeUndefined();
    } finally {
      test.context.close();
    }
  });
});

describe('the exported SAM template on a local stack with the SAM translator (MiniStack full)', () => {
  const stateDir = { path: '' };
  let endpoint = '';

  beforeAll(async () => {
    const [python, node] = await Promise.all([installMiniStackFull(), installNodeForRuntime(defaultRuntime())]);
    stateDir.path = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-stack-full-'));
    const info = await startLocalStack({ stateDir: stateDir.path, port: await freePort(), persist: false, startTimeoutMs: 120_000, pathPrefix: [node.binDir], python });
    endpoint = info.endpoint;
  });

  afterAll(async () => {
    if (stateDir.path === '') return;
    await stopLocalStack(stateDir.path);
    await rm(stateDir.path, { recursive: true, force: true });
  });

  it('deploys, resizes an upload and deletes', async () => {
    const settings = settingsFor(uniqueStackName('sam'));
    await deployUploadDelete(endpoint, 'sam', settings, 'photos/dog.jpg');
  });

  it('deploys every option (API, CDN, subscriptions), serves through the API and deletes', async () => {
    await deployEveryOption(endpoint, 'sam');
  });
});
