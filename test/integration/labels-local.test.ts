import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REKOGNITION_MAX_BYTES } from '../../lambda-src/core/content-analysis.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { freePort, startLocalStack, stopLocalStack, type LocalStackInfo } from '../../src/local/ministack.js';
import { startMoto, stopMoto, type MotoServer } from '../../src/local/moto.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { parsePolicyDocument } from '../../src/provision/policy.js';
import { INLINE_POLICY_NAME } from '../../src/provision/stack.js';
import { defaultRuntime } from '../../src/runtimes.js';
import { corpusFiles, readCorpusFile } from '../helpers/corpus.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';

/** One Rekognition request as the function sent it. */
interface SeenRequest {
  action: string;
  imageBytes: number;
}

/**
 * A recorder in front of moto: the function's Rekognition requests (MiniStack's functions inherit
 * AWS_ENDPOINT_URL_REKOGNITION) come here, are recorded and go on to moto. moto 5.2.5 has no
 * DetectModerationLabels, so the recorder answers it itself: no label, or, once `moderate` is set, one
 * "Explicit Nudity" label at 99%: the forced moderation result the issue asks for, over the real wire protocol.
 */
function rekognitionRecorder(motoEndpoint: string): { server: Server; seen: SeenRequest[]; state: { moderate: boolean } } {
  const seen: SeenRequest[] = [];
  const state = { moderate: false };
  const moto = new URL(motoEndpoint);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^RekognitionService\./, '');
      const parsed = JSON.parse(body.toString('utf8') || '{}') as { Image?: { Bytes?: string } };
      seen.push({ action, imageBytes: Buffer.from(parsed.Image?.Bytes ?? '', 'base64').length });
      if (action === 'DetectModerationLabels') {
        const labels = state.moderate ? [{ Name: 'Explicit Nudity', ParentName: '', Confidence: 99, TaxonomyLevel: 1 }] : [];
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ModerationLabels: labels, ModerationModelVersion: '7.0' }));
        return;
      }
      const forward = httpRequest(
        { hostname: moto.hostname, port: moto.port, path: req.url, method: req.method, headers: { ...req.headers, host: moto.host } },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  return { server, seen, state };
}

async function waitForItem(stack: DeployedTestStack, key: string, accept: (item: MetadataItem) => boolean, timeoutMs = 120_000): Promise<MetadataItem> {
  const clients = await stack.context.clients();
  const imageId = imageIdFor(stack.settings.sourceBucket, key);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageId }, ConsistentRead: true }));
    const item = response.Item as MetadataItem | undefined;
    if (item && accept(item)) return item;
    if (Date.now() > deadline) throw new Error(`no matching item for ${key} after ${timeoutMs} ms (last: ${JSON.stringify(item)})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function inlinePolicyActions(stack: DeployedTestStack): Promise<string[]> {
  const clients = await stack.context.clients();
  const response = await clients.iam.send(new GetRolePolicyCommand({ RoleName: stack.settings.roleName, PolicyName: INLINE_POLICY_NAME }));
  const document = parsePolicyDocument(response.PolicyDocument) as { Statement: { Action: string | string[] }[] };
  return document.Statement.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
}

async function objectExists(stack: DeployedTestStack, key: string): Promise<boolean> {
  const clients = await stack.context.clients();
  try {
    await clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.destBucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/*
 * A MiniStack of this test's own, since its functions' AWS_ENDPOINT_URL_REKOGNITION is fixed when it starts:
 * here, the recorder in front of a real moto server.
 */
describe('labels and moderation on the local stack (moto behind a recorder)', () => {
  let stateDir: string;
  let moto: MotoServer;
  let recorder: ReturnType<typeof rekognitionRecorder>;
  let stack: LocalStackInfo;

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-labels-'));
    moto = await startMoto({ port: await freePort(), logDir: stateDir, startTimeoutMs: 120_000 });
    recorder = rekognitionRecorder(moto.endpoint);
    await new Promise<void>((resolve) => recorder.server.listen(0, '127.0.0.1', resolve));
    const { port } = recorder.server.address() as AddressInfo;
    const node = await installNodeForRuntime(defaultRuntime());
    stack = await startLocalStack({
      stateDir,
      port: await freePort(),
      persist: false,
      startTimeoutMs: 120_000,
      pathPrefix: [node.binDir],
      rekognitionEndpoint: `http://127.0.0.1:${port}`,
    });
  });

  afterAll(async () => {
    await stopLocalStack(stateDir);
    stopMoto(moto);
    await new Promise((resolve) => recorder.server.close(resolve));
    await rm(stateDir, { recursive: true, force: true });
  });

  it('with --labels --moderation: the role has both actions, the item gets Labels from moto, Rekognition saw under 5 MB', async () => {
    const deployed = await deployTestStack({ endpoint: stack.endpoint, labels: true, moderation: true, sizes: 'large=2048x2048,thumbnail=200x200', format: 'jpeg' });
    const actions = await inlinePolicyActions(deployed);
    expect(actions).toEqual(expect.arrayContaining(['rekognition:DetectLabels', 'rekognition:DetectModerationLabels', 's3:DeleteObject']));
    const clients = await deployed.context.clients();
    const configuration = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: deployed.settings.functionName }));
    expect(configuration.Environment?.Variables).toMatchObject({ LABELS: 'on', MODERATION: 'on' });

    // The corpus' largest photo is over Rekognition's 5 MB: the function must send an output, never it.
    const elephants = (await corpusFiles()).find((file) => file.name === 'Elephants_5640x3172.jpg');
    if (!elephants) throw new Error('the corpus lacks Elephants_5640x3172.jpg');
    const source = await readCorpusFile(elephants);
    expect(source.length).toBeGreaterThan(REKOGNITION_MAX_BYTES);
    const before = recorder.seen.length;
    await clients.s3.send(new PutObjectCommand({ Bucket: deployed.settings.sourceBucket, Key: 'elephants.jpg', Body: source }));
    const item = await waitForItem(deployed, 'elephants.jpg', (candidate) => candidate.Status === 'SUCCEEDED');

    expect(item.Labels?.length).toBeGreaterThan(0);
    for (const label of item.Labels ?? []) {
      expect(label).toEqual({ Name: expect.any(String) as string, Confidence: expect.any(Number) as number, Parents: expect.any(Array) as string[] });
    }
    const sent = recorder.seen.slice(before);
    expect(sent.map((request) => request.action).sort()).toEqual(['DetectLabels', 'DetectModerationLabels']);
    for (const request of sent) {
      expect(request.imageBytes).toBeGreaterThan(0);
      expect(request.imageBytes).toBeLessThan(REKOGNITION_MAX_BYTES);
    }

    // A forced moderation result for a new version of the same key: FAILED/MODERATED, the earlier outputs removed.
    const outputKeys = item.Outputs.map((output) => output.Key);
    expect(outputKeys.length).toBe(2);
    for (const key of outputKeys) expect(await objectExists(deployed, key)).toBe(true);
    recorder.state.moderate = true;
    try {
      await clients.s3.send(new PutObjectCommand({ Bucket: deployed.settings.sourceBucket, Key: 'elephants.jpg', Body: await photo(1600, 1200) }));
      const moderated = await waitForItem(deployed, 'elephants.jpg', (candidate) => candidate.Status === 'FAILED');
      expect(moderated.ErrorCode).toBe('MODERATED');
      expect(moderated.Outputs).toEqual([]);
      expect(moderated.ModerationLabels?.[0]?.Name).toBe('Explicit Nudity');
      for (const key of outputKeys) expect(await objectExists(deployed, key)).toBe(false);
    } finally {
      recorder.state.moderate = false;
    }
  });

  it('without --labels: no Rekognition action in the role (read back) and no Rekognition call', async () => {
    const deployed = await deployTestStack({ endpoint: stack.endpoint });
    const actions = await inlinePolicyActions(deployed);
    expect(actions.filter((action) => action.startsWith('rekognition:'))).toEqual([]);
    const clients = await deployed.context.clients();
    const before = recorder.seen.length;
    await clients.s3.send(new PutObjectCommand({ Bucket: deployed.settings.sourceBucket, Key: 'plain.jpg', Body: await photo(640, 480) }));
    const item = await waitForItem(deployed, 'plain.jpg', (candidate) => candidate.Status === 'SUCCEEDED');
    expect(item.Labels).toBeUndefined();
    expect(recorder.seen.length).toBe(before);
  });
});
