import { describe, expect, it } from 'vitest';
import { loggingConfiguration } from '../../src/aws/stepfunctions.js';
import { describeOp, describeRecentExecutions } from '../../src/ui/provision.js';
import { planRule, planStateMachine } from '../../src/provision/workflow.js';
import { objectCreatedPattern } from '../../src/provision/workflow-documents.js';
import { executionsOptionsFrom } from '../../src/commands/executions.js';

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

describe('planning the rule', () => {
  const rule = {
    name: 'demo-uploads',
    pattern: objectCreatedPattern('uploads', { prefix: 'in/' }),
    target: { Id: 'workflow', Arn: observed.stateMachineArn, RoleArn: 'arn:aws:iam::123456789012:role/demo-events-role' },
  };

  it('creates rule and target, then nothing once they match', () => {
    expect(planRule(rule, undefined).ops).toEqual([{ kind: 'put-rule', why: 'missing' }, { kind: 'put-rule-target', stateMachineArn: observed.stateMachineArn }]);
    expect(planRule(rule, { eventPattern: JSON.stringify(rule.pattern), state: 'ENABLED', targets: [rule.target] }).action).toBe('no-op');
  });

  it('rewrites a changed pattern (a new trigger prefix), enables a disabled rule, repoints a wrong target', () => {
    const old = JSON.stringify(objectCreatedPattern('uploads', { prefix: 'old/' }));
    expect(planRule(rule, { eventPattern: old, state: 'ENABLED', targets: [rule.target] }).ops).toEqual([{ kind: 'put-rule', why: 'pattern' }]);
    expect(planRule(rule, { eventPattern: JSON.stringify(rule.pattern), state: 'DISABLED', targets: [rule.target] }).ops).toEqual([{ kind: 'put-rule', why: 'disabled' }]);
    expect(planRule(rule, { eventPattern: JSON.stringify(rule.pattern), state: 'ENABLED', targets: [{ ...rule.target, RoleArn: 'x' }] }).ops).toEqual([
      { kind: 'put-rule-target', stateMachineArn: observed.stateMachineArn },
    ]);
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
