import { describe, expect, it } from 'vitest';
import type { Target } from '@aws-sdk/client-eventbridge';
import { loggingConfiguration } from '../../src/aws/stepfunctions.js';
import { describeOp, describeRecentExecutions } from '../../src/ui/provision.js';
import { planRule, planStateMachine } from '../../src/provision/workflow.js';
import { failedEventsQueuePolicy, objectCreatedPattern, RULE_TARGET_RETRY_ATTEMPTS, ruleTargetRetryPolicy } from '../../src/provision/workflow-documents.js';
import { planFailedEventsQueue } from '../../src/provision/failed-events-queue.js';
import { executionsOptionsFrom } from '../../src/commands/executions.js';

const DLQ = 'arn:aws:sqs:eu-west-1:123456789012:demo-failed-events';
const LOG_GROUP = 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/demo-workflow:*';
const desired = { definition: { StartAt: 'Resize', States: {} }, roleArn: 'arn:aws:iam::123456789012:role/demo-workflow-role', type: 'EXPRESS' as const, logGroupArn: LOG_GROUP };
const observed = {
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:demo-workflow',
  definition: JSON.stringify(desired.definition),
  roleArn: desired.roleArn,
  type: 'EXPRESS' as const,
  status: 'ACTIVE' as const,
  loggingConfiguration: loggingConfiguration(LOG_GROUP),
};

describe('planning the state machine', () => {
  it('creates a missing one, leaves a matching one alone', () => {
    expect(planStateMachine(desired, undefined)).toMatchObject({ action: 'create', ops: [{ kind: 'create-state-machine', type: 'EXPRESS' }] });
    expect(planStateMachine(desired, observed).action).toBe('no-op');
  });

  it('updates definition, role and logging in place, and replaces it when the type changes', () => {
    const drifted = { ...observed, definition: '{"StartAt":"Other","States":{}}', roleArn: 'arn:aws:iam::123456789012:role/other', loggingConfiguration: { level: 'OFF' as const } };
    expect(planStateMachine(desired, drifted)).toMatchObject({ action: 'update', ops: [{ kind: 'update-state-machine', fields: ['definition', 'role', 'logging'] }] });
    const standard = planStateMachine({ ...desired, type: 'STANDARD' }, observed);
    expect(standard.ops).toEqual([{ kind: 'replace-state-machine', from: 'EXPRESS', to: 'STANDARD' }]);
    expect(standard.ops.flatMap(describeOp)).toEqual(['type EXPRESS → STANDARD: delete and create again']);
  });
});

/** The upload rule as the stack wants it: the workflow as target, retried for an hour, dead letters to DLQ. */
function uploadRule(pattern: ReturnType<typeof objectCreatedPattern>) {
  return {
    name: 'demo-uploads',
    pattern,
    target: {
      Id: 'workflow',
      Arn: observed.stateMachineArn,
      RoleArn: 'arn:aws:iam::123456789012:role/demo-events-role',
      RetryPolicy: ruleTargetRetryPolicy(3600),
      DeadLetterConfig: { Arn: DLQ },
    },
  };
}

describe('planning the rule', () => {
  const rule = uploadRule(objectCreatedPattern('uploads', { prefix: 'in/' }));

  it('creates rule and target, then nothing once they match', () => {
    expect(planRule(rule, undefined).ops).toEqual([{ kind: 'put-rule', why: 'missing' }, { kind: 'put-rule-target', stateMachineArn: observed.stateMachineArn, deadLetterQueueArn: DLQ }]);
    expect(planRule(rule, { eventPattern: JSON.stringify(rule.pattern), state: 'ENABLED', targets: [rule.target] }).action).toBe('no-op');
  });

  it('rewrites a changed pattern (a new trigger prefix), enables a disabled rule, repoints a wrong target', () => {
    const old = JSON.stringify(objectCreatedPattern('uploads', { prefix: 'old/' }));
    expect(planRule(rule, { eventPattern: old, state: 'ENABLED', targets: [rule.target] }).ops).toEqual([{ kind: 'put-rule', why: 'pattern' }]);
    expect(planRule(rule, { eventPattern: JSON.stringify(rule.pattern), state: 'DISABLED', targets: [rule.target] }).ops).toEqual([{ kind: 'put-rule', why: 'disabled' }]);
    expect(planRule(rule, { eventPattern: JSON.stringify(rule.pattern), state: 'ENABLED', targets: [{ ...rule.target, RoleArn: 'x' }] }).ops).toEqual([
      { kind: 'put-rule-target', stateMachineArn: observed.stateMachineArn, deadLetterQueueArn: DLQ },
    ]);
  });
});

describe("the rule target's retries and dead letters", () => {
  const rule = uploadRule(objectCreatedPattern('uploads'));
  const existing = (target: Target) => ({ eventPattern: JSON.stringify(rule.pattern), state: 'ENABLED', targets: [target] });

  it('puts the target again when it has no dead-letter queue or retry policy (a stack from before), or other values', () => {
    const { RetryPolicy: _retry, DeadLetterConfig: _dlq, ...bare } = rule.target;
    const put = [{ kind: 'put-rule-target', stateMachineArn: observed.stateMachineArn, deadLetterQueueArn: DLQ }];
    expect(planRule(rule, existing(bare)).ops).toEqual(put);
    expect(planRule(rule, existing({ ...rule.target, DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:other' } })).ops).toEqual(put);
    expect(planRule(rule, existing({ ...rule.target, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 } })).ops).toEqual(put);
    expect(planRule(rule, existing({ ...rule.target, RetryPolicy: { MaximumRetryAttempts: RULE_TARGET_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: 60 } })).ops).toEqual(put);
    expect(planRule(rule, existing(rule.target)).action).toBe('no-op');
    expect(describeOp(put[0] as never)).toEqual([`target → ${observed.stateMachineArn}, with retries and dead letters → ${DLQ}`]);
  });

  it('uses the max event age it is given and EventBridge default attempts', () => {
    expect(ruleTargetRetryPolicy(21_600)).toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 21_600 });
  });
});

describe("the failed-events queue's grant to the upload rule", () => {
  const ruleArn = 'arn:aws:events:eu-west-1:123456789012:rule/demo-uploads';
  const ourPolicy = JSON.stringify(failedEventsQueuePolicy({ queueArn: DLQ, ruleArn }));
  const queue = (attributes: Record<string, string>) => ({ url: 'https://sqs/x', attributes: { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '1209600', ...attributes } });

  it('lets events.amazonaws.com send to this one queue, only for this one rule (read back from templates/)', () => {
    expect(JSON.parse(ourPolicy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'UploadRuleDeadLetters',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: DLQ,
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
        },
      ],
    });
  });

  it('puts it in workflow mode, keeps an equal one (any key order), removes only its own in direct mode', () => {
    const set = planFailedEventsQueue(queue({}), { ourPolicy, keepPolicy: true });
    expect(set.ops).toEqual([{ kind: 'set-queue-attributes', changes: [{ name: 'Policy', from: undefined, to: ourPolicy }] }]);
    expect(set.ops.flatMap(describeOp)).toEqual(["let EventBridge send the upload rule's dead letters (policy for that one rule)"]);
    const reordered = JSON.stringify({ Statement: (JSON.parse(ourPolicy) as { Statement: unknown }).Statement, Version: '2012-10-17' });
    expect(planFailedEventsQueue(queue({ Policy: reordered }), { ourPolicy, keepPolicy: true }).action).toBe('no-op');
    expect(planFailedEventsQueue(queue({ Policy: ourPolicy }), { ourPolicy, keepPolicy: false }).ops).toEqual([
      { kind: 'set-queue-attributes', changes: [{ name: 'Policy', from: ourPolicy, to: '' }] },
    ]);
    expect(planFailedEventsQueue(queue({ Policy: '{"Version":"2012-10-17","Statement":[]}' }), { ourPolicy, keepPolicy: false }).action).toBe('no-op');
    expect(planFailedEventsQueue(queue({}), { ourPolicy, keepPolicy: false }).action).toBe('no-op');
  });
});

describe('executions options', () => {
  it('reads --failed and --limit', () => {
    expect(executionsOptionsFrom({ failed: true, limit: 5 })).toEqual({ failed: true, limit: 5 });
    expect(executionsOptionsFrom({})).toEqual({ failed: false, limit: undefined });
  });
});

describe("status's line of the last executions", () => {
  it('counts outcomes and names the newest failure with its error; says why when none could be listed', () => {
    const failure = { name: 'abc', status: 'FAILED', startedAt: '2026-11-29T09:00:00.000Z', stoppedAt: undefined, object: 's3://src/broken.jpg', error: 'UNSUPPORTED_FORMAT' };
    expect(describeRecentExecutions({ checked: 3, outcomes: { SUCCEEDED: 2, FAILED: 1 }, lastFailure: failure })).toBe(
      'Last 3 executions: 1 FAILED, 2 SUCCEEDED; newest failure 2026-11-29T09:00:00.000Z s3://src/broken.jpg: UNSUPPORTED_FORMAT (`img-resizer executions --failed`).',
    );
    expect(describeRecentExecutions({ checked: 1, outcomes: { SUCCEEDED: 1 } })).toBe('Last 1 execution: 1 SUCCEEDED.');
    expect(describeRecentExecutions({ checked: 0, outcomes: {} })).toBe('Last executions: none yet.');
    expect(describeRecentExecutions({ checked: 0, outcomes: {}, unavailable: "AWS lists no Express executions; they are in the workflow's log group" })).toBe(
      "Last executions: not listed (AWS lists no Express executions; they are in the workflow's log group).",
    );
  });
});
