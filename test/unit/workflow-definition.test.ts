import { describe, expect, it } from 'vitest';
import { itemWriteCondition } from '../../lambda-src/core/write-condition.js';
import { CliError } from '../../src/errors.js';
import { renderStateMachineDefinition, transitionsOf, validateStateMachineDefinition } from '../../src/provision/state-machine-definition.js';
import { eventsRolePolicy, objectCreatedPattern, stateMachinePolicy } from '../../src/provision/workflow-documents.js';

const BASE = {
  stackName: 'demo',
  partition: 'aws',
  functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:demo-resize',
  table: 'demo-images',
};
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:demo-events';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/demo-dlq';

type States = Record<string, Record<string, unknown>>;

describe('the state machine definition', () => {
  it('without topic or queue: Resize → Record → Outcome, errors to Failed, no Notify or DeadLetter state', () => {
    const definition = renderStateMachineDefinition(BASE);
    const states = definition.States as States;
    expect(Object.keys(states).sort()).toEqual(['ByOutcome', 'Done', 'Failed', 'ImageFailed', 'Outcome', 'Record', 'RecordWithoutValues', 'Resize', 'Skipped', 'Superseded']);
    expect(states.Resize?.Parameters).toEqual({ FunctionName: BASE.functionArn, Payload: { workflow: 'resize', 'event.$': '$' } });
    expect(states.Record?.Next).toBe('Outcome');
    expect(transitionsOf(states.Resize as never)).toEqual(['ByOutcome', 'Failed']);
    expect(JSON.stringify(definition)).not.toContain('${');
  });

  it('with a topic and a queue: Notify after Record, every error path through DeadLetter', () => {
    const states = renderStateMachineDefinition({ ...BASE, topicArn: TOPIC, deadLetterQueueUrl: QUEUE }).States as States;
    expect(states.Record?.Next).toBe('Notify');
    expect(states.Notify?.Parameters).toMatchObject({ TopicArn: TOPIC, 'Message.$': '$.resize.Payload.notification.Message' });
    expect(states.DeadLetter?.Parameters).toMatchObject({ QueueUrl: QUEUE });
    for (const name of ['Resize', 'Record', 'RecordWithoutValues', 'Notify']) {
      const catches = states[name]?.Catch as { ErrorEquals: string[]; Next: string }[];
      expect(catches.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next).toBe('DeadLetter');
    }
  });

  it('retries the service errors with backoff, and never retries a bad input', () => {
    const states = renderStateMachineDefinition(BASE).States as States;
    const retry = states.Resize?.Retry as { ErrorEquals: string[]; MaxAttempts: number; BackoffRate?: number }[];
    expect(retry[0]?.ErrorEquals).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'Lambda.SdkClientException']));
    expect(retry[0]?.BackoffRate).toBe(2);
    expect(retry.find((r) => r.ErrorEquals.includes('WorkflowInputError'))?.MaxAttempts).toBe(0);
    const recordRetry = states.Record?.Retry as { ErrorEquals: string[] }[];
    expect(recordRetry[0]?.ErrorEquals).toContain('DynamoDB.ProvisionedThroughputExceededException');
    // A refused condition is the newer item winning: no retry, a Succeed state.
    expect(recordRetry.flatMap((r) => r.ErrorEquals)).not.toContain('DynamoDB.ConditionalCheckFailedException');
    expect((states.Record?.Catch as { ErrorEquals: string[]; Next: string }[])[0]).toMatchObject({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'Superseded' });
  });

  it('passes the function\'s own write condition: both Record states take what write-condition.ts returns', () => {
    const states = renderStateMachineDefinition(BASE).States as States;
    expect(states.Record?.Parameters).toMatchObject({ TableName: BASE.table, 'ConditionExpression.$': '$.resize.Payload.write.ConditionExpression' });
    expect(states.RecordWithoutValues?.Parameters).not.toHaveProperty('ExpressionAttributeValues.$');
    // The Choice's split matches the conditions that have no values.
    expect(itemWriteCondition({}).ExpressionAttributeValues).toBeUndefined();
    expect(itemWriteCondition({ Sequencer: '0A' }).ExpressionAttributeValues).toBeDefined();
  });

  it('validation finds dangling transitions, missing Next/End, resources that are not ARNs, unrendered placeholders', () => {
    const problems = validateStateMachineDefinition({
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'resize' }, Next: 'Nowhere' },
        B: { Type: 'Pass' },
        C: { Type: 'Task', Resource: 'lambda', End: true, Parameters: { TopicArn: '${topicArn}' } },
      },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'placeholder ${topicArn} was not rendered',
        'state A goes to Nowhere, which does not exist',
        'task A: FunctionName "resize" is not an ARN',
        'state B has neither Next nor End',
        'task C has no service integration Resource',
      ]),
    );
    expect(validateStateMachineDefinition('nope')).toEqual(['the definition is not a JSON object']);
  });

  it('refuses to render a definition with a bad resource, as a typed error', () => {
    expect(() => renderStateMachineDefinition({ ...BASE, functionArn: 'demo-resize' })).toThrow(CliError);
  });
});

describe('workflow roles and rule', () => {
  it('the state machine role: exactly the function, the table, and the topic and queue only when present', () => {
    const input = { account: '123456789012', functionArn: BASE.functionArn, tableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/demo-images', logDelivery: false };
    expect(stateMachinePolicy(input).Statement.map((s) => [s.Action, s.Resource])).toEqual([
      ['lambda:InvokeFunction', BASE.functionArn],
      ['dynamodb:PutItem', input.tableArn],
    ]);
    const full = stateMachinePolicy({ ...input, topicArn: TOPIC, deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:demo-dlq', logDelivery: true });
    expect(full.Statement.map((s) => s.Sid)).toEqual(['InvokeResizeFunction', 'RecordMetadataItems', 'PublishOutcomes', 'SendFailuresToDeadLetterQueue', 'DeliverExecutionLogs']);
    expect(full.Statement[2]).toMatchObject({ Action: 'sns:Publish', Resource: TOPIC });
  });

  it('EventBridge may start that one state machine only', () => {
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:demo';
    expect(eventsRolePolicy(arn).Statement).toEqual([{ Sid: 'StartResizeExecutions', Effect: 'Allow', Action: 'states:StartExecution', Resource: arn }]);
  });

  it('the rule matches Object Created in the bucket, narrowed like the trigger filter', () => {
    expect(objectCreatedPattern('uploads')).toEqual({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['uploads'] } } });
    expect(objectCreatedPattern('uploads', { prefix: 'in/' }).detail).toEqual({ bucket: { name: ['uploads'] }, object: { key: [{ prefix: 'in/' }] } });
    expect(objectCreatedPattern('uploads', { suffix: '.jpg' }).detail).toMatchObject({ object: { key: [{ suffix: '.jpg' }] } });
    expect(objectCreatedPattern('uploads', { prefix: 'a*b/', suffix: '.jpg' }).detail).toMatchObject({ object: { key: [{ wildcard: 'a\\*b/*.jpg' }] } });
  });
});
