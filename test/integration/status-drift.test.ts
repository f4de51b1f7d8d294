import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import { executeInit as runInit } from '../../src/commands/init.js';
import { executeStatus as runStatus } from '../../src/commands/status.js';
import { ExitCode } from '../../src/errors.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts, type DeployedTestStack } from '../helpers/deploy.js';

let stack: DeployedTestStack;

beforeAll(async () => {
  stack = await deployTestStack();
});
afterAll(() => {
  stack.context.close();
});

async function status(json = false) {
  const test = await localTestContext({ json }, stack.cwd);
  const result = await runStatus(test.context);
  test.context.close();
  return { result, stdout: test.stdout(), mutating: test.recorder.mutating() };
}

describe('status', () => {
  it('reports every resource and link OK and exits 0 after init, changing nothing', async () => {
    const { result, stdout, mutating } = await status();
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(mutating).toEqual([]);
    expect(result.resources.every((r) => r.action === 'no-op')).toBe(true);
    expect(result.links.map((l) => `${l.link}:${l.ok}`)).toEqual([
      'trigger → function:true',
      'function → role:true',
      'environment → destination bucket:true',
      'environment → table:true',
      'layer attached:true',
      'failed events:true',
      'permission present:true',
    ]);
    expect(stdout).toMatch(/Upload trigger .* OK/);
    expect(stdout).toContain('is as the settings say');
  });

  it('exits 3 after the trigger is removed by hand, saying what differs, then 0 after init again', async () => {
    const clients = await stack.context.clients();
    await clients.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: stack.settings.sourceBucket, NotificationConfiguration: {} }));

    const drifted = await status(true);
    expect(drifted.result.exitCode).toBe(ExitCode.Drift);
    const document = JSON.parse(drifted.stdout) as { ok: boolean; resources: { id: string; action: string; reason: string }[]; links: { link: string; ok: boolean; detail: string }[] };
    expect(document.ok).toBe(false);
    expect(document.resources.filter((r) => r.action !== 'no-op')).toEqual([
      expect.objectContaining({ id: 'trigger', action: 'create', reason: 'no trigger on the source bucket' }),
    ]);
    expect(document.links.filter((l) => !l.ok)).toEqual([
      { link: 'trigger → function', ok: false, detail: `no trigger on ${stack.settings.sourceBucket}` },
    ]);

    const again = await localTestContext({}, stack.cwd);
    const init = await runInit(again.context, { artifacts: await testArtifacts() });
    expect(init.steps.filter((s) => s.action !== 'no-op').map((s) => s.id)).toEqual(['trigger']);
    again.context.close();
    expect((await status()).result.exitCode).toBe(ExitCode.Ok);
  });

  it('notices a function whose environment no longer names the table', async () => {
    const clients = await stack.context.clients();
    const { functionName, destBucket } = stack.settings;
    await clients.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: { DEST_BUCKET: destBucket, TABLE_NAME: 'elsewhere' } } }),
    );
    await waitUntilFunctionUpdatedV2({ client: clients.lambda, maxWaitTime: 60 }, { FunctionName: functionName });
    const { result } = await status();
    expect(result.exitCode).toBe(ExitCode.Drift);
    expect(result.resources.find((r) => r.id === 'function')?.changes).toEqual(['environment FIT, MALLOC_ARENA_MAX, NOTIFY_TOPIC_ARN, OUTPUT_FORMAT, SIZES, SOURCE_BUCKET, TABLE_NAME']);
    expect(result.links.find((l) => l.link === 'environment → table')).toEqual({ link: 'environment → table', ok: false, detail: 'TABLE_NAME=elsewhere' });
  });
});
