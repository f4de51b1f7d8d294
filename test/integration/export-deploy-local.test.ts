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
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { StackSettings } from '../../src/config/settings.js';
import { describeTable } from '../../src/aws/dynamodb.js';
import { getFunction } from '../../src/aws/lambda.js';
import { getItem } from '../../src/aws/metadata-table.js';
import { emptyBucket, headBucket } from '../../src/aws/s3.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../src/aws/target.js';
import type { ExportFormat } from '../../src/export/template.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { exportStack } from '../../src/operations/export.js';
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
async function deployUploadDelete(endpoint: string, format: ExportFormat, settings: StackSettings, key: string): Promise<void> {
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

    // CloudFormation deletes only empty buckets, as `destroy` empties them first.
    await emptyBucket(clients.s3, settings.sourceBucket);
    await emptyBucket(clients.s3, settings.destBucket);
    await cloudformation.send(new DeleteStackCommand({ StackName: settings.stackName }));
    await waitUntilStackDeleteComplete({ client: cloudformation, maxWaitTime: 180, minDelay: 1, maxDelay: 3 }, { StackName: settings.stackName });
    expect(await headBucket(clients.s3, settings.sourceBucket)).toEqual({ kind: 'absent' });
    expect(await headBucket(clients.s3, settings.destBucket)).toEqual({ kind: 'absent' });
    expect(await getFunction(clients.lambda, settings.functionName)).toBeUndefined();
    expect(await describeTable(clients.dynamodb, settings.table)).toBeUndefined();
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
});
