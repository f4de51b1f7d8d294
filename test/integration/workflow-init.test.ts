import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeStateMachineCommand, ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { executeDestroy } from '../../src/commands/destroy.js';
import { executeExecutions } from '../../src/commands/executions.js';
import { executeInit } from '../../src/commands/init.js';
import { executeStatus } from '../../src/commands/status.js';
import { runFailuresList } from '../../src/operations/failures.js';
import { runMetadataGet } from '../../src/operations/metadata.js';
import { runBackfill } from '../../src/operations/backfill.js';
import { runUpload } from '../../src/commands/upload.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';

/** The workflow roles carry the region when the function's role does (region-named roles). */
function regionSuffix(settings: { roleName: string; region?: string | undefined }): string {
  const region = settings.region ?? '';
  return region !== '' && settings.roleName.endsWith(`-${region}`) ? `-${region}` : '';
}

const FAST_IAM = { minTimeoutMs: 100, maxTimeoutMs: 500, maxRetryTimeMs: 10_000 };

/** `init --orchestration stepfunctions` on MiniStack, switching back and forth with uploads between. */
describe('init --orchestration stepfunctions on the local stack', () => {
  it('converges both ways: every upload processed exactly once (items and executions counted), second init changes nothing, destroy removes it all', async () => {
    const stack = await deployTestStack({ orchestration: 'stepfunctions', propagationRetry: FAST_IAM });
    const clients = await stack.context.clients();
    const { settings } = stack;
    const names = {
      stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${settings.stackName}-workflow`,
      rule: `${settings.stackName}-uploads`,
    };

    // Read back: definition, type, rule and target, roles, the bucket's delivery, no direct trigger.
    const described = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: names.stateMachineArn }));
    expect(described.type).toBe('EXPRESS');
    const definition = JSON.parse(described.definition ?? '{}') as { StartAt: string; States: Record<string, { Parameters?: Record<string, unknown> }> };
    expect(definition.StartAt).toBe('Resize');
    expect(definition.States.Record?.Parameters?.TableName).toBe(settings.table);
    const rule = await clients.events.send(new DescribeRuleCommand({ Name: names.rule }));
    expect(JSON.parse(rule.EventPattern ?? '{}')).toEqual({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [settings.sourceBucket] } } });
    const targets = await clients.events.send(new ListTargetsByRuleCommand({ Rule: names.rule }));
    expect(targets.Targets?.map((t) => t.Arn)).toEqual([names.stateMachineArn]);
    // Issue 17: what EventBridge cannot deliver goes to the failed-events queue after init's retries, and the queue
    // lets that one rule send (MiniStack need not deliver dead letters: only the configuration is checked).
    const failedEventsQueueArn = `arn:aws:sqs:us-east-1:000000000000:${settings.stackName}-failed-events`;
    expect(targets.Targets?.[0]?.DeadLetterConfig).toEqual({ Arn: failedEventsQueueArn });
    expect(targets.Targets?.[0]?.RetryPolicy).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 21_600 });
    const failedEventsQueueUrl = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: `${settings.stackName}-failed-events` }))).QueueUrl ?? '';
    const queuePolicy = async () => (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: failedEventsQueueUrl, AttributeNames: ['Policy'] }))).Attributes?.Policy;
    expect(JSON.parse((await queuePolicy()) ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'UploadRuleDeadLetters',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: failedEventsQueueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:events:us-east-1:000000000000:rule/${names.rule}` } },
        },
      ],
    });
    const eventsPolicy = await clients.iam.send(new GetRolePolicyCommand({ RoleName: `${settings.stackName}-events-role${regionSuffix(settings)}`, PolicyName: 'img-resizer-workflow' }));
    expect(JSON.parse(decodeURIComponent(eventsPolicy.PolicyDocument ?? '{}'))).toMatchObject({
      Statement: [{ Action: 'states:StartExecution', Resource: names.stateMachineArn }],
    });
    const rolePolicy = await clients.iam.send(new GetRolePolicyCommand({ RoleName: `${settings.stackName}-workflow-role${regionSuffix(settings)}`, PolicyName: 'img-resizer-workflow' }));
    const statements = (JSON.parse(decodeURIComponent(rolePolicy.PolicyDocument ?? '{}')) as { Statement: { Sid: string; Action: unknown; Resource: unknown }[] }).Statement;
    // Exactly one action on one resource each: the function, the table, the outcomes topic, the failed-events queue.
    expect(statements.map((s) => s.Sid)).toEqual(['InvokeResizeFunction', 'RecordMetadataItems', 'PublishOutcomes', 'SendFailuresToDeadLetterQueue', 'DeliverExecutionLogs']);
    expect(statements.slice(0, 4).map((s) => [s.Action, s.Resource])).toEqual([
      ['lambda:InvokeFunction', `arn:aws:lambda:us-east-1:000000000000:function:${settings.functionName}`],
      ['dynamodb:PutItem', `arn:aws:dynamodb:us-east-1:000000000000:table/${settings.table}`],
      ['sns:Publish', `arn:aws:sns:us-east-1:000000000000:${settings.stackName}-outcomes`],
      ['sqs:SendMessage', `arn:aws:sqs:us-east-1:000000000000:${settings.stackName}-failed-events`],
    ]);
    // Execution logs, kept 30 days.
    const logGroupName = `/aws/vendedlogs/states/${settings.stackName}-workflow`;
    const groups = await clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName }));
    expect(groups.logGroups?.map((g) => [g.logGroupName, g.retentionInDays])).toEqual([[logGroupName, 30]]);
    expect(described.loggingConfiguration?.destinations?.[0]?.cloudWatchLogsLogGroup?.logGroupArn).toContain(logGroupName);
    const notifications = async () => clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: settings.sourceBucket }));
    expect((await notifications()).EventBridgeConfiguration).toBeDefined();
    expect((await notifications()).LambdaFunctionConfigurations ?? []).toEqual([]);

    // status: every resource as set, and the chain bucket → EventBridge → rule → state machine → function.
    const checking = await localTestContext({}, stack.cwd);
    const status = await executeStatus(checking.context);
    expect(status.links.map((l) => `${l.link}:${String(l.ok)}`).slice(0, 4)).toEqual([
      'bucket → EventBridge:true',
      'rule → state machine:true',
      'rule → failed-events queue:true',
      'state machine → function:true',
    ]);
    expect(status.exitCode).toBe(0);
    expect(checking.stdout()).toContain('Orchestration: stepfunctions (express)');
    expect(status.recentExecutions).toEqual({ checked: 0, outcomes: {} });

    // A second init changes nothing.
    const again = await localTestContext({}, stack.cwd);
    const second = await executeInit(again.context, { artifacts: await testArtifacts(), propagationRetry: FAST_IAM });
    expect(second).toMatchObject({ exitCode: 0, upToDate: true });
    expect(again.recorder.mutating()).toEqual([]);

    // A queue on the outcomes topic (raw delivery): the Notify state publishes the message the function publishes
    // on the direct path, once per image, in either mode.
    const { QueueUrl: seenUrl = '' } = await clients.sqs.send(new CreateQueueCommand({ QueueName: `${settings.stackName}-seen` }));
    const seenArn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: seenUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn ?? '';
    await clients.sns.send(
      new SubscribeCommand({ TopicArn: `arn:aws:sns:us-east-1:000000000000:${settings.stackName}-outcomes`, Protocol: 'sqs', Endpoint: seenArn, Attributes: { RawMessageDelivery: 'true' } }),
    );
    const seen: Message[] = [];
    const receiveOutcomes = async (count: number): Promise<string[]> => {
      const deadline = Date.now() + 60_000;
      // Until `count` arrived, then one more quiet read to catch a duplicate.
      for (let quiet = false; ; ) {
        const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: seenUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
        seen.push(...(Messages ?? []));
        if (quiet || Date.now() > deadline) break;
        if (seen.length >= count) {
          quiet = true;
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        }
      }
      return seen
        .map((m) => JSON.parse(m.Body ?? '{}') as { type: string; status: string; errorCode?: string; source: { key: string } })
        .map((b) => `${b.type} ${b.status} ${b.source.key}${b.errorCode ? ` ${b.errorCode}` : ''}`)
        .sort();
    };

    const upload = async (key: string): Promise<void> => {
      await clients.s3.send(new PutObjectCommand({ Bucket: settings.sourceBucket, Key: key, Body: await photo(320, 240) }));
    };
    const items = async (): Promise<MetadataItem[]> =>
      ((await clients.documents.send(new ScanCommand({ TableName: settings.table }))).Items ?? []) as MetadataItem[];
    const waitForItems = async (count: number): Promise<MetadataItem[]> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const found = await items();
        if (found.length >= count || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    const executions = async () => (await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: names.stateMachineArn }))).executions ?? [];

    await upload('one.jpg');
    expect((await waitForItems(1)).map((item) => item.Status)).toEqual(['SUCCEEDED']);

    // Switch to direct: the trigger is back before the rule goes.
    const toDirect = await localTestContext({}, stack.cwd);
    const direct = await executeInit(toDirect.context, { artifacts: await testArtifacts(), orchestration: 'direct', propagationRetry: FAST_IAM });
    expect(direct.exitCode).toBe(0);
    const ids = direct.steps.filter((step) => step.status === 'applied').map((step) => step.id);
    expect(ids.indexOf('trigger')).toBeLessThan(ids.indexOf('rule-cleanup'));
    expect((await notifications()).LambdaFunctionConfigurations?.length).toBe(1);
    // The rule is gone, and so is the queue's grant to it.
    expect(await queuePolicy() ?? '').toBe('');
    expect((await executeStatus((await localTestContext({}, stack.cwd)).context)).exitCode).toBe(0);
    await upload('two.jpg');
    await waitForItems(2);

    // And back: the rule before the trigger goes.
    const toFlow = await localTestContext({}, stack.cwd);
    const flow = await executeInit(toFlow.context, { artifacts: await testArtifacts(), orchestration: 'stepfunctions', propagationRetry: FAST_IAM });
    expect(flow.exitCode).toBe(0);
    const flowIds = flow.steps.filter((step) => step.status === 'applied').map((step) => step.id);
    expect(flowIds.indexOf('rule')).toBeLessThan(flowIds.indexOf('trigger'));
    await upload('three.jpg');
    await clients.s3.send(new PutObjectCommand({ Bucket: settings.sourceBucket, Key: 'broken.jpg', Body: Buffer.from('not an image') }));
    const all = await waitForItems(4);
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    // Exactly once: one item each; the state machine (created again after the switch) ran for three.jpg and broken.jpg only.
    expect(all.map((item) => `${item.OriginalFile}:${item.Status}`).sort()).toEqual(['broken.jpg:FAILED', 'one.jpg:SUCCEEDED', 'three.jpg:SUCCEEDED', 'two.jpg:SUCCEEDED']);
    const runs = await executions();
    const inputs = await Promise.all(runs.map(async (run) => (await clients.sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }))).input ?? ''));
    expect(inputs.filter((input) => input.includes('three.jpg'))).toHaveLength(1);
    expect(inputs.filter((input) => input.includes('broken.jpg'))).toHaveLength(1);
    expect(inputs.filter((input) => input.includes('two.jpg'))).toHaveLength(0);

    // One outcome message per image: Notify in workflow mode (one, three, broken), the function in direct mode (two).
    expect(await receiveOutcomes(4)).toEqual([
      'image.failed FAILED broken.jpg UNSUPPORTED_FORMAT',
      'image.processed SUCCEEDED one.jpg',
      'image.processed SUCCEEDED three.jpg',
      'image.processed SUCCEEDED two.jpg',
    ]);

    // status: the last executions' outcomes, the newest failure with its code; an image error is not drift.
    const statusAfter = await localTestContext({}, stack.cwd);
    const afterUploads = await executeStatus(statusAfter.context);
    expect(afterUploads.recentExecutions).toMatchObject({ checked: 2, outcomes: { SUCCEEDED: 1, FAILED: 1 }, lastFailure: { object: `s3://${settings.sourceBucket}/broken.jpg`, error: 'UNSUPPORTED_FORMAT' } });
    expect(afterUploads.exitCode).toBe(0);
    expect(statusAfter.stdout()).toMatch(/Last 2 executions: 1 FAILED, 1 SUCCEEDED; newest failure \S+ s3:\/\/\S+\/broken\.jpg: UNSUPPORTED_FORMAT/);

    // `img-resizer executions [--failed] --json`
    const listing = await localTestContext({ json: true }, stack.cwd);
    const listed = await executeExecutions(listing.context, {});
    expect(listed.executions.map((e) => `${e.object ?? ''}:${e.status}`).sort()).toEqual([
      `s3://${settings.sourceBucket}/broken.jpg:FAILED`,
      `s3://${settings.sourceBucket}/three.jpg:SUCCEEDED`,
    ]);
    const failedOnly = await executeExecutions((await localTestContext({ json: true }, stack.cwd)).context, { failed: true });
    expect(failedOnly.executions).toEqual([expect.objectContaining({ object: `s3://${settings.sourceBucket}/broken.jpg`, status: 'FAILED', error: 'UNSUPPORTED_FORMAT' })]);
    expect(JSON.parse(listing.stdout())).toMatchObject({ stateMachineArn: names.stateMachineArn });

    // backfill starts executions (the rule's event shape) instead of invoking the function.
    const backfilling = await localTestContext({}, stack.cwd);
    const { report } = await runBackfill(backfilling.context, { force: true, prefix: 'b' });
    expect(report).toMatchObject({ processed: 1, succeeded: 0 });
    expect(report.failed).toEqual([expect.objectContaining({ key: 'broken.jpg', errorCode: 'UNSUPPORTED_FORMAT' })]);
    const afterBackfill = await Promise.all(
      (await executions()).map(async (run) => (await clients.sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }))).input ?? ''),
    );
    expect(afterBackfill.filter((input) => input.includes('broken.jpg'))).toHaveLength(2);
    expect(afterBackfill.some((input) => input.includes('img-resizer-backfill'))).toBe(true);

    // upload --wait works the same: the Record state writes the item it waits for.
    const file = path.join(stack.cwd, 'été 01.jpg');
    await writeFile(file, await photo(640, 480));
    const uploading = await localTestContext({}, stack.cwd);
    const uploaded = await runUpload(uploading.context, { paths: [file], prefix: 'voyage', wait: true, timeoutSeconds: 90 });
    expect(uploaded.exitCode).toBe(0);
    expect(uploaded.report.files[0]).toMatchObject({ key: 'voyage/été 01.jpg', outcome: 'SUCCEEDED' });
    // metadata reads the item the Record state wrote, as on the direct path: outputs with their addresses.
    const got = await runMetadataGet((await localTestContext({}, stack.cwd)).context, 'voyage/été 01.jpg');
    expect(got.item).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 640, OriginalHeight: 480 });
    expect(got.item.Outputs.length).toBeGreaterThan(0);
    expect(got.addresses).toHaveLength(got.item.Outputs.length);

    // Anything but an image error goes to the failed-events queue through the DeadLetter state (here an event that
    // is not an object creation, which no retry fixes): `failures list` shows its key and error, status exits 3.
    const misfit = await clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: names.stateMachineArn,
        input: JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Deleted', detail: { bucket: { name: settings.sourceBucket }, object: { key: 'gone.jpg' } } }),
      }),
    );
    const misfitRun = await poll('the misfit execution to finish', async () => {
      const run = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: misfit.executionArn }));
      return run.status === 'RUNNING' ? undefined : run;
    });
    // AWS names the error by the function's errorType (WorkflowInputError, which the Resize state never retries);
    // MiniStack 1.5.33's Node runner calls every function error Runtime.HandlerError, so here it is retried first.
    expect(misfitRun.status).toBe('FAILED');
    expect(misfitRun.cause).toContain('Object Deleted');
    const { failures } = await runFailuresList((await localTestContext({}, stack.cwd)).context);
    expect(failures).toEqual([expect.objectContaining({ keys: ['gone.jpg'], error: expect.stringContaining('Object Deleted') as unknown })]);
    const withDeadLetter = await executeStatus((await localTestContext({}, stack.cwd)).context);
    expect(withDeadLetter).toMatchObject({ exitCode: 3, failedEvents: 1 });

    // Destroy removes the workflow's resources too.
    const destroying = await localTestContext({}, stack.cwd);
    const destroyed = await executeDestroy(destroying.context);
    expect(destroyed.exitCode).toBe(0);
    await expect(clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: names.stateMachineArn }))).rejects.toThrow();
    await expect(clients.events.send(new DescribeRuleCommand({ Name: names.rule }))).rejects.toThrow();
    expect((await clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroupName }))).logGroups ?? []).toEqual([]);
  }, 600_000);
});
