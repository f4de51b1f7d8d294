import { GetFunctionConfigurationCommand, InvokeCommand, ListLayerVersionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerSummary } from '../../lambda-src/handler.js';
import { buildArtifacts } from '../../src/artifact/build.js';
import { executeInit } from '../../src/commands/init.js';
import type { Architecture } from '../../src/constants.js';
import { freePort, functionNodeProblem, localStatus, startLocalStack, stopLocalStack, type LocalStackInfo } from '../../src/local/ministack.js';
import { defaultRuntime, runtimeInfo, type LambdaRuntime } from '../../src/runtimes.js';
import { deployTestStack, hostArch, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { s3ObjectEvent } from '../helpers/in-process-function.js';

/*
 * Issue 19: switching --runtime on an existing stack, on a MiniStack of this test's own (a MiniStack's functions
 * all share its PATH, so its Node is the stack's, not the function's). The stack starts for nodejs22.x as the CLI
 * starts it (the runtime's official Node installed and first on its PATH), init deploys nodejs22.x with a bundle
 * built for node22, and the function reports Node 22. init --runtime nodejs24.x updates the function and publishes
 * a layer version for nodejs24.x; the running stack is then on the wrong Node (functionNodeProblem says so), and
 * after the restart it advises (state kept) the function reports Node 24 and resizes a real image. A third init
 * changes nothing.
 */
describe('switching --runtime on the local stack', () => {
  let stateDir: string | undefined;
  let port: number;
  let stack: LocalStackInfo;
  let deployed: DeployedTestStack;

  const start = async (runtime: LambdaRuntime): Promise<LocalStackInfo> =>
    startLocalStack({ stateDir: stateDir ?? '', port, persist: true, startTimeoutMs: 120_000, runtime });

  /** The runtimes init asked the packages to be built for, in order. */
  const builtFor: LambdaRuntime[] = [];
  /** Builds as the command does: the bundle for the runtime init resolved. */
  const build = async (arch: Architecture, runtime: LambdaRuntime) => {
    builtFor.push(runtime);
    const { functionZip, layerZip } = await buildArtifacts({ arch, runtime });
    return { functionZip, layerZip };
  };
  const init = (runtime: LambdaRuntime) => executeInit(deployed.context, { runtime, arch: hostArch(), build });

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-runtime-stack-'));
    port = await freePort();
    stack = await start('nodejs22.x');
    deployed = await deployTestStack({ endpoint: stack.endpoint, prefix: 'uploads/', runtime: 'nodejs22.x', artifacts: undefined, build });
  });

  afterAll(async () => {
    if (stateDir !== undefined) {
      await stopLocalStack(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('deploys nodejs22.x, switches to nodejs24.x (function and layer), then changes nothing', async () => {
    const clients = await deployed.context.clients();
    const { functionName, layerName } = deployed.settings;
    expect(stack.functionNodeVersion).toMatch(/^v22\./);
    expect(deployed.settings.runtime).toBe('nodejs22.x');
    expect((await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))).Runtime).toBe('nodejs22.x');
    expect((await invokeSummary(clients.lambda, functionName, { Records: [] })).node).toMatch(/^v22\./);

    const switched = await init('nodejs24.x');
    expect(builtFor).toEqual(['nodejs22.x', 'nodejs24.x']);
    expect(switched.settings.runtime).toBe('nodejs24.x');
    const layerStep = switched.steps.find((s) => s.id === 'layer');
    expect(layerStep).toMatchObject({ action: 'update', reason: expect.stringMatching(/is for nodejs22\.x, not nodejs24\.x/) as unknown });
    const functionStep = switched.steps.find((s) => s.id === 'function');
    expect(functionStep?.changes).toContain('runtime nodejs22.x → nodejs24.x');
    const configuration = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    expect(configuration.Runtime).toBe('nodejs24.x');
    const versions = (await clients.lambda.send(new ListLayerVersionsCommand({ LayerName: layerName }))).LayerVersions ?? [];
    const newest = [...versions].sort((a, b) => (b.Version ?? 0) - (a.Version ?? 0))[0];
    expect(newest?.CompatibleRuntimes).toEqual(['nodejs24.x']);
    expect(configuration.Layers?.map((l) => l.Arn)).toEqual([newest?.LayerVersionArn]);

    // The running stack still has Node 22 first on its PATH: the CLI says so, and the operator restarts it.
    const running = await localStatus(stateDir ?? '');
    expect(functionNodeProblem(running, 'nodejs24.x')).toMatch(/runs functions on Node\.js v22\..*needs Node\.js 24.*local stop/);
    await stopLocalStack(stateDir ?? '');
    stack = await start('nodejs24.x');
    expect(functionNodeProblem(stack, 'nodejs24.x')).toBeUndefined();

    const key = 'direct/photo.jpg';
    const image = await photo(640, 480);
    await clients.s3.send(new PutObjectCommand({ Bucket: deployed.settings.sourceBucket, Key: key, Body: image }));
    const payload = await invokeSummary(clients.lambda, functionName, s3ObjectEvent(deployed.settings.sourceBucket, key, { size: image.length }));
    expect(payload.node).toMatch(/^v24\./);
    expect(payload).toMatchObject({ records: 1, succeeded: 1, failed: 0 });
    // The cold-start log line says the same (MiniStack writes function output to its log).
    expect(await readFile(stack.logFile, 'utf8')).toContain(`"node":"${payload.node}"`);

    const again = await init('nodejs24.x');
    expect(again.outcome).toBe('up-to-date');
  });
});

describe('the test run\'s own local stack (test/helpers/global-setup.ts)', () => {
  it(`runs the deployed function on the Node major of ${defaultRuntime()}, the default runtime every integration test deploys`, async () => {
    const deployed = await deployTestStack();
    expect(deployed.settings.runtime).toBe(defaultRuntime());
    const clients = await deployed.context.clients();
    const summary = await invokeSummary(clients.lambda, deployed.settings.functionName, { Records: [] });
    expect(summary.node).toMatch(new RegExp(`^v${runtimeInfo(defaultRuntime()).nodeMajor}\\.`));
  });
});

/** Invokes synchronously and returns the handler's summary (invokeSynchronously keeps only errors). */
async function invokeSummary(lambda: LambdaClient, functionName: string, event: unknown): Promise<HandlerSummary> {
  const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
  expect(response.FunctionError, new TextDecoder().decode(response.Payload)).toBeUndefined();
  return JSON.parse(new TextDecoder().decode(response.Payload)) as HandlerSummary;
}
