import { CreateRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetBucketNotificationConfigurationCommand, ListObjectsV2Command, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  type ExecutionListItem,
} from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import { renderStateMachineDefinition } from '../../src/provision/state-machine-definition.js';
import { eventsRolePolicy, eventsTrustPolicy, objectCreatedPattern, stateMachinePolicy, stateMachineTrustPolicy } from '../../src/provision/workflow-documents.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

/**
 * Workflow mode on MiniStack: the deployed function (the same bundle as the direct path) behind the rendered
 * state machine, started by an EventBridge rule from the source bucket's events. The direct trigger of the
 * test stack covers `direct/` only, so uploads under `flow/` go through the workflow alone.
 */
describe('workflow mode (Step Functions) on the local stack', () => {
  const endpoint = inject('ministackEndpoint');
  const config = { endpoint, region: REGION, credentials: LOCAL_CREDENTIALS };
  const sfn = new SFNClient(config);
  const events = new EventBridgeClient(config);
  const iam = new IAMClient(config);
  let stack: DeployedTestStack;
  let stateMachineArn: string;
  let definition: Record<string, unknown>;

  beforeAll(async () => {
    stack = await deployTestStack({ prefix: 'direct/' });
    const { settings } = stack;
    const functionArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${settings.functionName}`;
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${settings.table}`;
    const roleName = `${settings.stackName}-states`;
    const role = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(stateMachineTrustPolicy(ACCOUNT)) }));
    const policy = stateMachinePolicy({ account: ACCOUNT, functionArn, tableArn, logDelivery: true });
    await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'workflow', PolicyDocument: JSON.stringify(policy) }));
    definition = renderStateMachineDefinition({ stackName: settings.stackName, partition: 'aws', functionArn, table: settings.table });
    const created = await sfn.send(
      new CreateStateMachineCommand({ name: settings.stackName, roleArn: role.Role?.Arn, definition: JSON.stringify(definition), type: 'EXPRESS' }),
    );
    stateMachineArn = created.stateMachineArn ?? '';

    const eventsRole = `${settings.stackName}-events`;
    const eventsRoleArn = (await iam.send(new CreateRoleCommand({ RoleName: eventsRole, AssumeRolePolicyDocument: JSON.stringify(eventsTrustPolicy(ACCOUNT)) }))).Role?.Arn;
    await iam.send(new PutRolePolicyCommand({ RoleName: eventsRole, PolicyName: 'start', PolicyDocument: JSON.stringify(eventsRolePolicy(stateMachineArn)) }));
    await events.send(
      new PutRuleCommand({ Name: settings.stackName, EventPattern: JSON.stringify(objectCreatedPattern(settings.sourceBucket, { prefix: 'flow/' })) }),
    );
    await events.send(new PutTargetsCommand({ Rule: settings.stackName, Targets: [{ Id: 'workflow', Arn: stateMachineArn, RoleArn: eventsRoleArn }] }));
    // EventBridge delivery on, the direct trigger kept beside it (one document).
    const { s3 } = await stack.context.clients();
    const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: settings.sourceBucket }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: settings.sourceBucket,
        NotificationConfiguration: { LambdaFunctionConfigurations: current.LambdaFunctionConfigurations ?? [], EventBridgeConfiguration: {} },
      }),
    );
  }, 300_000);

  afterAll(() => {
    sfn.destroy();
    events.destroy();
    iam.destroy();
  });

  async function executionsFor(key: string, count: number, timeoutMs = 120_000): Promise<ExecutionListItem[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
      const matching: ExecutionListItem[] = [];
      for (const execution of listed.executions ?? []) {
        if (execution.status === 'RUNNING') continue;
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
        if ((described.input ?? '').includes(JSON.stringify(key))) matching.push(execution);
      }
      if (matching.length >= count || Date.now() > deadline) return matching;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  const item = async (key: string): Promise<MetadataItem | undefined> =>
    (await (await stack.context.clients()).documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: `s3://${stack.settings.sourceBucket}/${key}` } })))
      .Item as MetadataItem | undefined;

  const outputsOf = async (key: string): Promise<string[]> => {
    const listed = await (await stack.context.clients()).s3.send(new ListObjectsV2Command({ Bucket: stack.settings.destBucket }));
    return (listed.Contents ?? []).map((object) => object.Key ?? '').filter((name) => name.includes(key.replace(/\.\w+$/, '')));
  };

  it('renders a definition MiniStack accepts, and the roles grant exactly what the states call', async () => {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
    expect(described.type).toBe('EXPRESS');
    expect(JSON.parse(described.definition ?? '{}')).toEqual(definition);
    expect(Object.keys((definition as { States: object }).States)).not.toContain('Notify');
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: `${stack.settings.stackName}-states`, PolicyName: 'workflow' }));
    const statements = (JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}')) as { Statement: { Action: unknown; Resource: unknown }[] }).Statement;
    expect(statements.map((statement) => [statement.Action, statement.Resource]).slice(0, 2)).toEqual([
      ['lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stack.settings.functionName}`],
      ['dynamodb:PutItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${stack.settings.table}`],
    ]);
  });

  it('uploads: a good photo SUCCEEDED with outputs, bad inputs FAILED with their codes and no outputs, one execution each', async () => {
    const { s3 } = await stack.context.clients();
    const bucket = stack.settings.sourceBucket;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'flow/good photo.jpg', Body: await photo(800, 600), ContentType: 'image/jpeg' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'flow/bad.jpg', Body: (await photo(400, 300)).subarray(0, 2_000), ContentType: 'image/jpeg' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'flow/notes.jpg', Body: Buffer.from('not an image at all'), ContentType: 'image/jpeg' }));

    const [good] = await executionsFor('flow/good photo.jpg', 1);
    const [bad] = await executionsFor('flow/bad.jpg', 1);
    const [text] = await executionsFor('flow/notes.jpg', 1);
    expect(good?.status).toBe('SUCCEEDED');
    expect(bad?.status).toBe('FAILED');
    const badExecution = await sfn.send(new DescribeExecutionCommand({ executionArn: bad?.executionArn }));
    expect(badExecution.error).toBe('CORRUPT_IMAGE');
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: text?.executionArn }))).error).toBe('UNSUPPORTED_FORMAT');
    expect(await item('flow/notes.jpg')).toMatchObject({ Status: 'FAILED', ErrorCode: 'UNSUPPORTED_FORMAT', Outputs: [] });

    expect(await item('flow/good photo.jpg')).toMatchObject({ Status: 'SUCCEEDED', OriginalWidth: 800, OriginalHeight: 600 });
    expect((await item('flow/good photo.jpg'))?.Sequencer).toBeDefined();
    expect(await item('flow/bad.jpg')).toMatchObject({ Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE', Outputs: [] });
    expect((await outputsOf('flow/good photo.jpg')).length).toBeGreaterThan(0);
    expect(await outputsOf('flow/bad.jpg')).toEqual([]);
    // Exactly one execution per upload, after a pause for any late duplicate.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await executionsFor('flow/good photo.jpg', 2, 0)).toHaveLength(1);
    expect(await executionsFor('flow/bad.jpg', 2, 0)).toHaveLength(1);
    expect(await executionsFor('flow/notes.jpg', 2, 0)).toHaveLength(1);
  }, 240_000);

  it('an execution for an older event (lower sequencer) leaves the newer item in place: the Record state\'s condition', async () => {
    const { s3 } = await stack.context.clients();
    const key = 'flow/ordered.png';
    await s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: await photo(300, 200, 'png') }));
    await executionsFor(key, 1);
    const before = await item(key);
    expect(before?.Status).toBe('SUCCEEDED');
    // A late, older event of the same key: the function reprocesses the object, and the Record state's condition
    // (write-condition.ts, as the function's own write) refuses to replace the item of the later event.
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        input: JSON.stringify({
          source: 'aws.s3',
          'detail-type': 'Object Created',
          detail: { bucket: { name: stack.settings.sourceBucket }, object: { key, sequencer: '0000000000000001' } },
        }),
      }),
    );
    const status = await poll('the late execution to finish', async () => {
      const { status: now } = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      return now === 'RUNNING' ? undefined : now;
    });
    expect(status).toBe('SUCCEEDED');
    expect((await item(key))?.ProcessedAt).toBe(before?.ProcessedAt);
  }, 240_000);
});
