import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputKeyFor } from '../../lambda-src/core/keys.js';
import { parseSizeSpec } from '../../lambda-src/core/sizes.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { executeInit, initCommand, initOptionsFrom } from '../../src/commands/init.js';
import { executeStatus } from '../../src/commands/status.js';
import { ExitCode } from '../../src/errors.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts, type DeployedTestStack } from '../helpers/deploy.js';
import { near, pixelAt } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';

/**
 * Issue 11 item 7: the function's output settings set by init's flags land in its configuration, a second init
 * changes nothing, and a value changed by hand is drift that init puts back. BACKGROUND proven end to end: a
 * transparent PNG uploaded to the stack comes out as a JPEG on the configured colour.
 */

const FLAGS = ['--format', 'jpeg', '--quality', '70', '--allow-upscale', '--max-pixels', '50000000', '--max-bytes', '20MB', '--background', '#102060', '--cache-control', 'public, max-age=600'];

let stack: DeployedTestStack;
let clients: AwsClients;

/** init's options from its command line, through commander and the flags' parsers. */
function initOptionsOf(argv: string[]) {
  const command = initCommand().exitOverride();
  command.parseOptions(argv);
  return initOptionsFrom(command.opts());
}

async function environment(): Promise<Record<string, string>> {
  const configuration = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: stack.settings.functionName }));
  return configuration.Environment?.Variables ?? {};
}

beforeAll(async () => {
  stack = await deployTestStack({ ...initOptionsOf(FLAGS), sizes: 'full=100x100' });
  clients = await stack.context.clients();
});
afterAll(() => {
  stack.context.close();
});

describe('function output settings on the local stack', () => {
  it('land in the function configuration and the settings file', async () => {
    expect(await environment()).toMatchObject({
      OUTPUT_FORMAT: 'jpeg',
      OUTPUT_QUALITY: '70',
      ALLOW_UPSCALE: 'true',
      MAX_PIXELS: '50000000',
      MAX_BYTES: '20971520',
      BACKGROUND: '#102060',
      CACHE_CONTROL: 'public, max-age=600',
    });
    expect(stack.settings).toMatchObject({ quality: 70, allowUpscale: true, maxPixels: 50_000_000, maxBytes: 20_971_520, background: '#102060', cacheControl: 'public, max-age=600' });
  });

  it('a second init, from the settings file alone, sends no state-changing request', async () => {
    const again = await localTestContext({}, stack.cwd);
    const result = await executeInit(again.context, { artifacts: await testArtifacts() });
    again.context.close();
    expect(result.upToDate).toBe(true);
    expect(again.recorder.mutating()).toEqual([]);
  });

  it('a value changed by hand in the console is drift, and init puts the setting back', async () => {
    const { functionName } = stack.settings;
    await clients.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: { ...(await environment()), OUTPUT_QUALITY: '30' } } }));
    await waitUntilFunctionUpdatedV2({ client: clients.lambda, maxWaitTime: 60 }, { FunctionName: functionName });

    const check = await localTestContext({}, stack.cwd);
    const status = await executeStatus(check.context);
    check.context.close();
    expect(status.exitCode).toBe(ExitCode.Drift);
    expect(status.resources.find((r) => r.id === 'function')?.changes).toEqual(['environment OUTPUT_QUALITY']);

    const dry = await localTestContext({}, stack.cwd);
    await executeInit(dry.context, { artifacts: await testArtifacts(), dryRun: true });
    dry.context.close();
    // The dry run shows the old and new value, and that earlier outputs stay as they were.
    expect(dry.stdout()).toContain('environment OUTPUT_QUALITY: 30 → 70');
    expect(dry.stderr()).toContain('backfill --force');

    const fix = await localTestContext({}, stack.cwd);
    await executeInit(fix.context, { artifacts: await testArtifacts() });
    fix.context.close();
    expect((await environment()).OUTPUT_QUALITY).toBe('70');
  });

  it('the function flattens a transparent PNG onto BACKGROUND in its JPEG output', async () => {
    const square = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } }).png().toBuffer();
    const artwork = await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: square, left: 30, top: 30 }])
      .png()
      .toBuffer();
    const key = 'art/white-logo.png';
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: artwork, ContentType: 'image/png' }));
    const [size] = parseSizeSpec(stack.settings.sizes);
    if (!size) throw new Error('the stack has no size');
    const outputKey = outputKeyFor(key, size, 1, 'jpeg', 'png');
    const object = await poll(outputKey, async () => {
      const got = await clients.s3.send(new GetObjectCommand({ Bucket: stack.settings.destBucket, Key: outputKey }));
      return got.Body ? { body: got.Body, cacheControl: got.CacheControl } : undefined;
    }, 60_000);
    expect(object.cacheControl).toBe('public, max-age=600');
    const jpeg = Buffer.from(await object.body.transformToByteArray());
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    expect(near(await pixelAt(jpeg, 5, 5), { r: 0x10, g: 0x20, b: 0x60 }, 12)).toBe(true);
    expect(near(await pixelAt(jpeg, 50, 50), { r: 255, g: 255, b: 255 }, 12)).toBe(true);
  });
});
