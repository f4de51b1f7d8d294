import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeleteFunctionConcurrencyCommand, GetFunctionConfigurationCommand, PutFunctionConcurrencyCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { runTune } from '../../src/commands/tune.js';
import { getItem } from '../../src/aws/metadata-table.js';
import { loadStackSettings } from '../../src/config/settings.js';
import { ExitCode } from '../../src/errors.js';
import { runTune as runTuneOperation, type TuneResult } from '../../src/operations/tune.js';
import { corpusFiles, readCorpusFile } from '../helpers/corpus.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { poll } from '../helpers/poll.js';

/** The configuration without what every update changes by itself (revision, timestamps, update status). */
function comparable(configuration: FunctionConfiguration): Partial<FunctionConfiguration> {
  const { LastModified: _modified, RevisionId: _revision, LastUpdateStatus: _status, LastUpdateStatusReason: _reason, LastUpdateStatusReasonCode: _code, State: _state, StateReason: _stateReason, StateReasonCode: _stateCode, $metadata: _metadata, ...rest } =
    configuration as FunctionConfiguration & { $metadata?: unknown };
  return rest;
}

describe('tune on the local stack', () => {
  let stack: DeployedTestStack;
  const key = 'tune/photo one.jpg';
  let item: MetadataItem;
  let original: FunctionConfiguration;

  const readConfiguration = async (): Promise<FunctionConfiguration> => {
    const clients = await stack.context.clients();
    return clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: stack.settings.functionName }));
  };

  beforeAll(async () => {
    stack = await deployTestStack();
    const clients = await stack.context.clients();
    // The smallest real photograph of the corpus: each invocation does real work, the test stays short.
    const smallest = (await corpusFiles()).filter((file) => file.extension === '.jpg').sort((a, b) => a.bytes - b.bytes)[0];
    if (smallest === undefined) throw new Error('The corpus has no JPEG.');
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: await readCorpusFile(smallest), ContentType: 'image/jpeg' }));
    // The bucket's trigger runs the function: wait for its item.
    const stored = await poll('the upload\'s item', () => getItem(clients.documents, stack.settings.table, imageIdFor(stack.settings.sourceBucket, key)), 90_000);
    if (stored.Status !== 'SUCCEEDED') throw new Error(`The upload was not processed: ${JSON.stringify(stored)}`);
    item = stored;
    original = await readConfiguration();
  }, 180_000);

  it('changes the memory, invokes with a recent image, prints the table and leaves the configuration as it was', async () => {
    const clients = await stack.context.clients();
    const outputsBefore = await Promise.all(item.Outputs.map((output) => clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.destBucket, Key: output.Key }))));
    // Each measured invocation reads the memory the function has at that moment.
    const memoryWhileInvoked: Promise<{ row: number; actual: number | undefined }>[] = [];
    const json = await localTestContext({ json: true }, stack.cwd);
    const result = await runTuneOperation(json.context, { memorySizes: [512, 1536], invocations: 2 }, (progress) => {
      if (progress.kind === 'invoked') memoryWhileInvoked.push(readConfiguration().then((c) => ({ row: progress.memoryMb, actual: c.MemorySize })));
    });
    json.context.close();

    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(result.samples).toEqual([key]);
    expect(result.emulated).toBe(true);
    expect(result.rows.map((row) => row.memoryMb)).toEqual([512, 1536]);
    for (const row of result.rows) {
      expect(row.invocations).toBe(2);
      expect(row.medianDurationMs).toBeGreaterThan(0);
      // MiniStack's log tail has no REPORT line: measured client-side, and said so.
      expect(row.measuredBy).toBe('client');
      expect(row.billedMs).toBeGreaterThanOrEqual(1);
      expect(row.dollarsPerMillion).toBeGreaterThan(0.2);
    }
    expect(result.rows.filter((row) => row.cheapest)).toHaveLength(1);
    expect(result.rows.filter((row) => row.fastest)).toHaveLength(1);
    const actual = await Promise.all(memoryWhileInvoked);
    expect(actual).toHaveLength(4);
    for (const { row, actual: memory } of actual) expect(memory).toBe(row);
    expect(comparable(await readConfiguration())).toEqual(comparable(original));
    expect(result.finalMemoryMb).toBe(original.MemorySize);

    // The re-invoked record is a duplicate delivery of the event that made the item (MiniStack's events carry a
    // sequencer, as S3's do): it rewrote its own item (same outputs, same sequencer) and the same output bytes.
    expect(item.Sequencer).toMatch(/^[0-9A-F]+$/);
    const after = await getItem(clients.documents, stack.settings.table, item.ImageID);
    expect(after?.Status).toBe('SUCCEEDED');
    expect(after?.Sequencer).toBe(item.Sequencer);
    expect(after?.Outputs.map((o) => o.Key)).toEqual(item.Outputs.map((o) => o.Key));
    const outputsAfter = await Promise.all(item.Outputs.map((output) => clients.s3.send(new HeadObjectCommand({ Bucket: stack.settings.destBucket, Key: output.Key }))));
    expect(outputsAfter.map((o) => o.ETag)).toEqual(outputsBefore.map((o) => o.ETag));
  }, 240_000);

  it('renders the table with the cheapest and fastest marked, and the host banner', async () => {
    const human = await localTestContext({}, stack.cwd);
    const result: TuneResult = await runTune(human.context, { samples: [key], memorySizes: [1024], invocations: 1 });
    human.context.close();
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(human.stderr()).toMatch(/durations are the host's, not Lambda's/);
    expect(human.stdout()).toMatch(/memory.*median duration.*billed.*max memory used.*\$\/million/s);
    expect(human.stdout()).toMatch(/1024 MB.*client round trip.*cheapest, fastest/);
    expect(comparable(await readConfiguration())).toEqual(comparable(original));
  }, 120_000);

  it('--apply fastest leaves the function at the fastest size and records it in the settings file', async () => {
    const settingsFile = path.join(stack.cwd, 'img-resizer.config.json');
    const settingsBefore = await readFile(settingsFile, 'utf8');
    const test = await localTestContext({ json: true }, stack.cwd);
    const result = await runTune(test.context, { samples: [key], memorySizes: [512, 1536], invocations: 1, apply: 'fastest' });
    test.context.close();
    expect(result.applied).toEqual({ choice: 'fastest', memoryMb: result.fastestMemoryMb });
    expect((await readConfiguration()).MemorySize).toBe(result.fastestMemoryMb);
    expect((await loadStackSettings(settingsFile)).memory).toBe(result.fastestMemoryMb);
    expect(JSON.parse(test.stdout())).toMatchObject({ applied: { choice: 'fastest' }, finalMemoryMb: result.fastestMemoryMb });
    // Back as it was for the tests after this one: init converges the memory to the settings file's.
    const { UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2 } = await import('@aws-sdk/client-lambda');
    const clients = await stack.context.clients();
    await clients.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: stack.settings.functionName, MemorySize: original.MemorySize }));
    await waitUntilFunctionUpdatedV2({ client: clients.lambda, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { FunctionName: stack.settings.functionName });
    await writeFile(settingsFile, settingsBefore);
  }, 120_000);

  it('sets the memory back when invoking fails mid-run (throttled), then reports the failure', async () => {
    const clients = await stack.context.clients();
    // Reserved concurrency 0: Lambda (and MiniStack) refuse every invoke with TooManyRequestsException, a real
    // fault after tune has already changed the memory.
    await clients.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: stack.settings.functionName, ReservedConcurrentExecutions: 0 }));
    try {
      const test = await localTestContext({}, stack.cwd);
      await expect(runTune(test.context, { samples: [key], memorySizes: [512], invocations: 1 })).rejects.toMatchObject({ name: 'TooManyRequestsException' });
      test.context.close();
      expect(test.recorder.operations().filter((o) => o === 'lambda:UpdateFunctionConfiguration')).toHaveLength(2);
      expect(test.stderr()).toMatch(/Setting the function's memory to 1024 MB/);
    } finally {
      await clients.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: stack.settings.functionName }));
    }
    expect(comparable(await readConfiguration())).toEqual(comparable(original));
  }, 120_000);

  it('refuses a sample that is not in the source bucket, before changing anything', async () => {
    const test = await localTestContext({}, stack.cwd);
    await expect(runTune(test.context, { samples: ['no/such.jpg'] })).rejects.toMatchObject({ code: 'SAMPLE_NOT_FOUND', exitCode: ExitCode.Usage });
    test.context.close();
    expect(test.recorder.operations()).not.toContain('lambda:UpdateFunctionConfiguration');
  });

  it('restores the configuration when interrupted (SIGINT mid-run) and exits 130', async () => {
    const tsx = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;
    const cliArgs = ['tune', '--memory-sizes', '512,1536,2048', '--invocations', '50'];
    const child = spawn(process.execPath, ['--import', tsx, path.resolve('test/helpers/run-cli.ts'), ...cliArgs], {
      cwd: stack.cwd,
      env: { ...process.env, CI: 'true', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    let interrupted = false;
    let memoryAtInterrupt: Promise<number | undefined> | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Interrupt once the function runs at the first tuned size: its memory is then not the original.
      if (!interrupted && stderr.includes('512 MB invocation 1/50')) {
        interrupted = true;
        // Read at once: the restore waits for the invocation in flight to finish first.
        memoryAtInterrupt = readConfiguration().then((c) => c.MemorySize);
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(interrupted, stderr).toBe(true);
    expect(code, stderr).toBe(ExitCode.Interrupted);
    expect(await memoryAtInterrupt).toBe(512);
    expect(stderr).toMatch(/Setting the function's memory to 1024 MB/);
    expect(stdout + stderr).toMatch(/Interrupted: .* is back at 1024 MB, as it was/);
    expect(comparable(await readConfiguration())).toEqual(comparable(original));
  }, 240_000);
});
