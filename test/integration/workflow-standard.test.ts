import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeDestroy } from '../../src/commands/destroy.js';
import { executeExecutions } from '../../src/commands/executions.js';
import { executeInit } from '../../src/commands/init.js';
import { runUpload } from '../../src/commands/upload.js';
import { runBackfill } from '../../src/operations/backfill.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';

const FAST_IAM = { minTimeoutMs: 100, maxTimeoutMs: 500, maxRetryTimeMs: 10_000 };

/** `--state-machine-type standard`: the listable history, backfill's start-and-poll path, and a type change. */
describe('workflow mode with a Standard state machine on the local stack', () => {
  it('records uploads, lists their executions, backfills by start-and-poll; switching to Express replaces the state machine', async () => {
    const stack = await deployTestStack({ orchestration: 'stepfunctions', stateMachineType: 'standard', propagationRetry: FAST_IAM });
    const clients = await stack.context.clients();
    const { settings } = stack;
    const stateMachineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${settings.stackName}-workflow`;
    const typeOf = async (): Promise<string | undefined> => (await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).type;
    expect(await typeOf()).toBe('STANDARD');

    // upload --wait: the Record state writes the item it waits for.
    const file = path.join(stack.cwd, 'standard.jpg');
    await writeFile(file, await photo(400, 300));
    const uploaded = await runUpload((await localTestContext({}, stack.cwd)).context, { paths: [file], wait: true, timeoutSeconds: 90 });
    expect(uploaded.exitCode).toBe(0);
    expect(uploaded.report.files[0]).toMatchObject({ key: 'standard.jpg', outcome: 'SUCCEEDED' });

    // The history Standard keeps, listed by `executions`.
    const listing = await localTestContext({ json: true }, stack.cwd);
    const listed = await executeExecutions(listing.context, {});
    expect(listed.executions.map((e) => `${e.object ?? ''}:${e.status}`)).toEqual([`s3://${settings.sourceBucket}/standard.jpg:SUCCEEDED`]);

    // backfill --force starts an execution and polls it to its end (Standard has no synchronous start).
    const { report } = await runBackfill((await localTestContext({}, stack.cwd)).context, { force: true });
    expect(report).toMatchObject({ processed: 1, succeeded: 1 });
    const afterBackfill = await executeExecutions((await localTestContext({ json: true }, stack.cwd)).context, {});
    expect(afterBackfill.executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);

    // AWS cannot change the type in place: init deletes and creates it again, then converges.
    const switching = await localTestContext({}, stack.cwd);
    const toExpress = await executeInit(switching.context, { artifacts: await testArtifacts(), stateMachineType: 'express', propagationRetry: FAST_IAM });
    expect(toExpress.exitCode).toBe(0);
    expect(toExpress.steps.find((step) => step.id === 'state-machine')).toMatchObject({ status: 'applied', changes: ['type STANDARD → EXPRESS: delete and create again'] });
    expect(await typeOf()).toBe('EXPRESS');
    const again = await localTestContext({}, stack.cwd);
    expect(await executeInit(again.context, { artifacts: await testArtifacts(), propagationRetry: FAST_IAM })).toMatchObject({ exitCode: 0, upToDate: true });
    expect(again.recorder.mutating()).toEqual([]);

    expect((await executeDestroy((await localTestContext({}, stack.cwd)).context)).exitCode).toBe(0);
  }, 600_000);
});
