import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerSummary } from '../../lambda-src/handler.js';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { freePort, startLocalStack, stopLocalStack, type LocalStackInfo } from '../../src/local/ministack.js';
import { FUNCTION_RUNTIME } from '../../src/provision/stack.js';
import { runtimeInfo, supportedRuntimes, type RuntimeInfo } from '../../src/runtimes.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';

/** The event S3 sends for an upload. */
function uploadEvent(bucket: string, key: string, size: number) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeS3EventKey(key), size } },
      },
    ],
  };
}

/*
 * The proof that the local stack runs the function on the runtime's Node major: a MiniStack of this test's
 * own, started with that major's official Node first on its PATH (MiniStack spawns a bare `node`), the real
 * function and sharp layer deployed on it, a real image resized, and the function's own process.version
 * asserted. One MiniStack per runtime, because a MiniStack's functions all share its PATH.
 */
describe.each(supportedRuntimes())('the deployed function on the local stack, $id', (runtime: RuntimeInfo) => {
  let stateDir: string | undefined;
  let stack: LocalStackInfo;
  let deployed: DeployedTestStack;

  beforeAll(async () => {
    const node = await installNodeForRuntime(runtime.id);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-node-stack-'));
    stateDir = dir;
    stack = await startLocalStack({ stateDir: dir, port: await freePort(), persist: false, startTimeoutMs: 120_000, pathPrefix: [node.binDir] });
    // The trigger only watches uploads/, so the direct invocation below is the image's only processing.
    deployed = await deployTestStack({ endpoint: stack.endpoint, prefix: 'uploads/' });
    const clients = await deployed.context.clients();
    if (runtime.id !== FUNCTION_RUNTIME) {
      // What init does when --runtime changes (until the setting is wired into init, the test does it).
      await clients.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: deployed.settings.functionName, Runtime: runtime.id }));
      await waitUntilFunctionUpdatedV2({ client: clients.lambda, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { FunctionName: deployed.settings.functionName });
    }
  });

  afterAll(async () => {
    if (stateDir !== undefined) {
      await stopLocalStack(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it(`resizes a real image on Node ${runtime.nodeMajor} and reports that version`, async () => {
    const clients = await deployed.context.clients();
    const { functionName, sourceBucket } = deployed.settings;
    const configuration = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    expect(configuration.Runtime).toBe(runtime.id);

    const key = 'direct/photo.jpg';
    const image = await photo(640, 480);
    await clients.s3.send(new PutObjectCommand({ Bucket: sourceBucket, Key: key, Body: image }));
    const payload = await invokeSummary(clients.lambda, functionName, uploadEvent(sourceBucket, key, image.length));

    expect(payload.node).toMatch(new RegExp(`^v${runtime.nodeMajor}\\.`));
    expect(payload).toMatchObject({ records: 1, succeeded: 1, failed: 0 });
    // The cold-start log line says the same (MiniStack writes function output to its log).
    const log = await readFile(stack.logFile, 'utf8');
    expect(log).toContain(`"node":"${payload.node}"`);
  });
});

describe('the test run\'s own local stack (test/helpers/global-setup.ts)', () => {
  it(`runs the deployed function on the Node major of ${FUNCTION_RUNTIME}, as every integration test sees it`, async () => {
    const deployed = await deployTestStack();
    const clients = await deployed.context.clients();
    const summary = await invokeSummary(clients.lambda, deployed.settings.functionName, { Records: [] });
    expect(summary.node).toMatch(new RegExp(`^v${runtimeInfo(FUNCTION_RUNTIME).nodeMajor}\\.`));
  });
});

/** Invokes synchronously and returns the handler's summary (invokeSynchronously keeps only errors). */
async function invokeSummary(lambda: LambdaClient, functionName: string, event: unknown): Promise<HandlerSummary> {
  const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
  expect(response.FunctionError, new TextDecoder().decode(response.Payload)).toBeUndefined();
  return JSON.parse(new TextDecoder().decode(response.Payload)) as HandlerSummary;
}
