/**
 * Workflow mode (issue 17): the state machine's role, the state machine, EventBridge's role and the rule that
 * starts executions from the source bucket's "Object Created" events. In direct mode the same steps remove what
 * an earlier workflow-mode init made (they run after the trigger is back, see steps.ts).
 */
import type { Role } from '@aws-sdk/client-iam';
import pRetry from 'p-retry';
import { IAM_PROPAGATION_RETRY } from '../aws/lambda.js';
import { awsErrorName, errorMessage } from '../errors.js';
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import { getNotificationConfiguration, putNotificationConfiguration } from '../aws/s3.js';
import { deleteRule, describeRule, putRule, putTarget, type ObservedRule } from '../aws/eventbridge.js';
import { operationalSettings } from '../config/settings.js';
import { workflowModeFor } from '../config/stack-settings.js';
import {
  createStateMachine,
  deleteStateMachine,
  describeStateMachine,
  loggingConfiguration,
  updateStateMachine,
  type StateMachineDescription,
} from '../aws/stepfunctions.js';
import { logGroupRemovalStepFor, logGroupStepFor, type LogGroupStepSpec } from './log-group.js';
import { iamRoleRemovalStep, iamRoleStep, type ObservedRole, type RoleOp, type RoleRemovalOp, type RoleStepSpec } from './role.js';
import { stableStringify } from './policy.js';
import { renderStateMachineDefinition } from './state-machine-definition.js';
import type { StackModel } from './stack.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';
import { eventsRolePolicy, eventsTrustPolicy, objectCreatedPattern, ruleTargetRetryPolicy, stateMachinePolicy, stateMachineTrustPolicy } from './workflow-documents.js';

export const WORKFLOW_POLICY_NAME = 'img-resizer-workflow';

/** Equal JSON documents whatever their key order (definitions, patterns, logging: not policies). */
function sameJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** A document AWS returned as text; undefined when absent or not JSON (then it differs from any we want). */
function parsedJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/**
 * The names and ARNs of workflow mode's resources, derived from the stack name. IAM is global: like the function's
 * role (derivedNames), the two roles carry the region when the function's role does, so one stack name in two
 * regions gives two independent stacks; stacks whose function role predates that rule keep the plain names.
 */
export function workflowNames(stack: Pick<StackModel, 'settings' | 'partition' | 'region' | 'account'>) {
  const { stackName, roleName } = stack.settings;
  const roleSuffix = stack.region !== '' && roleName.endsWith(`-${stack.region}`) ? `-${stack.region}` : '';
  const stateMachineName = `${stackName}-workflow`;
  return {
    stateMachineName,
    stateMachineArn: `arn:${stack.partition}:states:${stack.region}:${stack.account}:stateMachine:${stateMachineName}`,
    stateMachineRoleName: `${stackName}-workflow-role${roleSuffix}`,
    eventsRoleName: `${stackName}-events-role${roleSuffix}`,
    ruleName: `${stackName}-uploads`,
    ruleArn: `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/${stackName}-uploads`,
    // Under /aws/vendedlogs/ so the log delivery's resource policy stays small (AWS's advice for vended logs).
    logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
    logGroupArn: `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/vendedlogs/states/${stateMachineName}:*`,
  };
}

/** How long execution logs are kept. */
export const WORKFLOW_LOG_RETENTION_DAYS = 30;

export function workflowMode(context: ProvisionContext): boolean {
  return workflowModeFor(context.stack.settings);
}

const UNUSED = 'direct orchestration: not used';

// ---------------------------------------------------------------------------------------------------
// Roles: the function role's plan (role.ts) over another name and documents.

type WorkflowRoleSpec = Omit<RoleStepSpec, 'policyName' | 'arn'>;

/** A role only workflow mode uses: neither observed nor changed in direct mode. */
function workflowRoleStep(spec: WorkflowRoleSpec): Step<ObservedRole | undefined, RoleOp> {
  const role = iamRoleStep({ ...spec, policyName: WORKFLOW_POLICY_NAME });
  return {
    ...role,
    observe: (context, inputs) => (workflowMode(context) ? role.observe(context, inputs) : Promise.resolve(undefined)),
    plan: (context, observed, inputs) => (observed ? role.plan(context, observed, inputs) : noop(UNUSED)),
    // The runner applies only changes, which are planned from an observed role: the stand-in is never used.
    apply: (context, observed, plan, inputs, progress) => role.apply(context, observed ?? { role: undefined, policyDocument: undefined }, plan, inputs, progress),
  };
}

function workflowRoleRemovalStep(spec: Pick<WorkflowRoleSpec, 'id' | 'resource' | 'roleName'>, when: (context: ProvisionContext) => boolean, idSuffix = ''): Step<Role | undefined, RoleRemovalOp> {
  const removal = iamRoleRemovalStep({ ...spec, id: `${spec.id}${idSuffix}` }, 'workflow mode is off');
  return { ...removal, observe: (context, inputs) => (when(context) ? removal.observe(context, inputs) : Promise.resolve(undefined)) };
}

/** The outcomes topic the Notify state publishes to, when the stack has notifications on (events-infra's topic). */
function outcomesTopicArn(context: ProvisionContext): string | undefined {
  return operationalSettings(context.stack.settings).notifications ? context.stack.topicArn : undefined;
}

/**
 * The failed-events queue's URL in the standard form, for when the queue step has not told it (a dry run of a new
 * stack; export's template). Errors the Resize, Record and Notify states cannot recover from go there, beside
 * Lambda's failed async events.
 */
export function failedEventsQueueUrl(stack: Pick<StackModel, 'partition' | 'region' | 'account' | 'failedEventsQueueName'>): string {
  const { partition, region, account, failedEventsQueueName } = stack;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${failedEventsQueueName}`;
}

const stateMachineRoleSpec: WorkflowRoleSpec = {
  id: 'workflow-role',
  resource: 'State machine role',
  roleName: (context) => workflowNames(context.stack).stateMachineRoleName,
  trustPolicy: (context) => stateMachineTrustPolicy(context.stack.account),
  policy: (context, inputs) =>
    stateMachinePolicy({
      account: context.stack.account,
      functionArn: inputs.functionArn ?? context.stack.functionArn,
      tableArn: context.stack.tableArn,
      topicArn: outcomesTopicArn(context),
      deadLetterQueueArn: context.stack.failedEventsQueueArn,
      logDelivery: true,
    }),
  description: 'the workflow state machine\'s role',
};

const eventsRoleSpec: WorkflowRoleSpec = {
  id: 'events-role',
  resource: 'EventBridge role',
  roleName: (context) => workflowNames(context.stack).eventsRoleName,
  trustPolicy: (context) => eventsTrustPolicy(context.stack.account),
  policy: (context) => eventsRolePolicy(workflowNames(context.stack).stateMachineArn),
  description: 'lets EventBridge start the workflow',
};

export const stateMachineRoleStep = workflowRoleStep(stateMachineRoleSpec);
export const eventsRoleStep = workflowRoleStep(eventsRoleSpec);

// ---------------------------------------------------------------------------------------------------
// The state machine.

export type StateMachineOp =
  | { kind: 'create-state-machine'; type: 'EXPRESS' | 'STANDARD' }
  | { kind: 'update-state-machine'; fields: ('definition' | 'role' | 'logging')[] }
  /** The type of a state machine cannot change: it is deleted and created again. */
  | { kind: 'replace-state-machine'; from: string; to: 'EXPRESS' | 'STANDARD' };

export interface StateMachineRemovalOp { kind: 'delete-state-machine' }

function desiredStateMachine(context: ProvisionContext, inputs: Readonly<StackOutputs>) {
  const names = workflowNames(context.stack);
  const definition = renderStateMachineDefinition({
    stackName: context.stack.settings.stackName,
    partition: context.stack.partition,
    functionArn: inputs.functionArn ?? context.stack.functionArn,
    table: context.stack.settings.table,
    topicArn: outcomesTopicArn(context),
    deadLetterQueueUrl: inputs.failedEventsQueueUrl ?? failedEventsQueueUrl(context.stack),
  });
  return {
    name: names.stateMachineName,
    arn: names.stateMachineArn,
    definition,
    roleArn: `arn:${context.stack.partition}:iam::${context.stack.account}:role/${names.stateMachineRoleName}`,
    type: context.stack.settings.stateMachineType === 'standard' ? ('STANDARD' as const) : ('EXPRESS' as const),
    logGroupArn: names.logGroupArn,
  };
}

export function planStateMachine(
  desired: { definition: unknown; roleArn: string; type: 'EXPRESS' | 'STANDARD'; logGroupArn: string },
  observed: StateMachineDescription | undefined,
): Plan<StateMachineOp> {
  if (!observed) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-state-machine', type: desired.type }] };
  if (observed.type !== desired.type) return { action: 'update', reason: '', ops: [{ kind: 'replace-state-machine', from: observed.type ?? '?', to: desired.type }] };
  const fields: ('definition' | 'role' | 'logging')[] = [];
  if (!sameJson(desired.definition, parsedJson(observed.definition))) fields.push('definition');
  if (observed.roleArn !== desired.roleArn) fields.push('role');
  if (!sameJson(loggingConfiguration(desired.logGroupArn), observed.loggingConfiguration)) fields.push('logging');
  return opsPlan(fields.length > 0 ? [{ kind: 'update-state-machine', fields }] : [], `${desired.type}, definition and role as rendered`);
}

export const stateMachineStep: Step<StateMachineDescription | undefined, StateMachineOp> = {
  id: 'state-machine',
  resource: 'State machine',
  name: (context) => workflowNames(context.stack).stateMachineName,
  observe: (context) => (workflowMode(context) ? describeStateMachine(context.clients.sfn, workflowNames(context.stack).stateMachineArn) : Promise.resolve(undefined)),
  plan(context, observed, inputs) {
    if (!workflowMode(context)) return noop(UNUSED);
    return planStateMachine(desiredStateMachine(context, inputs), observed);
  },
  async apply(context, _observed, plan, inputs, progress) {
    const { sfn } = context.clients;
    const desired = desiredStateMachine(context, inputs);
    const definition = JSON.stringify(desired.definition);
    const retry = context.propagationRetry ?? IAM_PROPAGATION_RETRY;
    // A role created seconds ago may not be assumable by Step Functions yet (IAM is eventually consistent), and
    // AWS deletes a state machine asynchronously: its name is refused (StateMachineDeleting) until it is gone,
    // which a replace (type change) or an init right after destroy meets.
    const create = (): Promise<string> =>
      pRetry(() => createStateMachine(sfn, { name: desired.name, definition, roleArn: desired.roleArn, type: desired.type, logGroupArn: desired.logGroupArn, tags: context.stack.tags }), {
        retries: 20,
        minTimeout: retry.minTimeoutMs,
        maxTimeout: retry.maxTimeoutMs,
        maxRetryTime: retry.maxRetryTimeMs,
        shouldRetry: ({ error }) =>
          (awsErrorName(error) === 'AccessDeniedException' && /assume|authorized/i.test(errorMessage(error))) || awsErrorName(error) === 'StateMachineDeleting',
      });
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-state-machine':
          progress('creating');
          await create();
          break;
        case 'update-state-machine':
          await updateStateMachine(sfn, desired.arn, { definition, roleArn: desired.roleArn, logGroupArn: desired.logGroupArn });
          break;
        case 'replace-state-machine':
          progress(`replacing (${op.from} → ${op.to})`);
          await deleteStateMachine(sfn, desired.arn);
          await create();
          break;
      }
    }
    return { outputs: { stateMachineArn: desired.arn } };
  },
  outputs: (context) => (workflowMode(context) ? { stateMachineArn: workflowNames(context.stack).stateMachineArn } : {}),
};

// ---------------------------------------------------------------------------------------------------
// The rule.

export type RuleOp = { kind: 'put-rule'; why: 'missing' | 'pattern' | 'disabled' } | { kind: 'put-rule-target'; stateMachineArn: string; deadLetterQueueArn: string };
export interface RuleRemovalOp { kind: 'delete-rule' }

/** The rule as init wants it: its pattern, and its one target with retries and a dead-letter queue. */
export interface RuleSpec {
  name: string;
  pattern: unknown;
  target: {
    Id: string;
    Arn: string;
    RoleArn: string;
    RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
    DeadLetterConfig: { Arn: string };
  };
}

function desiredRule(context: ProvisionContext): RuleSpec {
  const names = workflowNames(context.stack);
  const { settings } = context.stack;
  return {
    name: names.ruleName,
    pattern: objectCreatedPattern(settings.sourceBucket, { prefix: settings.prefix, suffix: settings.suffix }),
    target: {
      Id: 'workflow',
      Arn: names.stateMachineArn,
      RoleArn: `arn:${context.stack.partition}:iam::${context.stack.account}:role/${names.eventsRoleName}`,
      // An event EventBridge cannot deliver (the state machine throttled or gone) is kept, not dropped.
      RetryPolicy: ruleTargetRetryPolicy(operationalSettings(settings).maxEventAgeSeconds),
      DeadLetterConfig: { Arn: context.stack.failedEventsQueueArn },
    },
  };
}

export function planRule(desired: RuleSpec, observed: ObservedRule | undefined): Plan<RuleOp> {
  const ops: RuleOp[] = [];
  if (!observed) ops.push({ kind: 'put-rule', why: 'missing' });
  else {
    if (!sameJson(desired.pattern, parsedJson(observed.eventPattern))) ops.push({ kind: 'put-rule', why: 'pattern' });
    else if (observed.state !== 'ENABLED') ops.push({ kind: 'put-rule', why: 'disabled' });
  }
  const target = observed?.targets.find((t) => t.Id === desired.target.Id);
  if (
    target?.Arn !== desired.target.Arn ||
    target.RoleArn !== desired.target.RoleArn ||
    target.DeadLetterConfig?.Arn !== desired.target.DeadLetterConfig.Arn ||
    target.RetryPolicy?.MaximumRetryAttempts !== desired.target.RetryPolicy.MaximumRetryAttempts ||
    target.RetryPolicy.MaximumEventAgeInSeconds !== desired.target.RetryPolicy.MaximumEventAgeInSeconds
  ) {
    ops.push({ kind: 'put-rule-target', stateMachineArn: desired.target.Arn, deadLetterQueueArn: desired.target.DeadLetterConfig.Arn });
  }
  if (!observed) return { action: 'create', reason: 'does not exist', ops };
  return opsPlan(ops, 'Object Created in the source bucket → state machine, undeliverable events → failed-events queue');
}

export const ruleStep: Step<ObservedRule | undefined, RuleOp> = {
  id: 'rule',
  resource: 'Upload rule',
  name: (context) => workflowNames(context.stack).ruleName,
  observe: (context) => (workflowMode(context) ? describeRule(context.clients.events, workflowNames(context.stack).ruleName) : Promise.resolve(undefined)),
  plan: (context, observed) => (workflowMode(context) ? planRule(desiredRule(context), observed) : noop(UNUSED)),
  async apply(context, _observed, plan, _inputs, progress) {
    const { events } = context.clients;
    const desired = desiredRule(context);
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'put-rule':
          progress('writing the rule');
          await putRule(events, {
            name: desired.name,
            eventPattern: JSON.stringify(desired.pattern),
            description: `img-resizer stack ${context.stack.settings.stackName}: uploads start the workflow`,
            tags: context.stack.tags,
          });
          break;
        case 'put-rule-target':
          await putTarget(events, desired.name, desired.target);
          break;
      }
    }
    return undefined;
  },
};

// ---------------------------------------------------------------------------------------------------
// Removal: by destroy (always), and by init in direct mode (after the trigger is back).

function ruleRemovalStep(when: (context: ProvisionContext) => boolean, idSuffix = ''): Step<ObservedRule | undefined, RuleRemovalOp> {
  return {
    id: `rule${idSuffix}`,
    resource: 'Upload rule',
    name: (context) => workflowNames(context.stack).ruleName,
    observe: (context) => (when(context) ? describeRule(context.clients.events, workflowNames(context.stack).ruleName) : Promise.resolve(undefined)),
    plan: (_context, observed): Plan<RuleRemovalOp> => (observed ? { action: 'delete', reason: 'workflow mode is off', ops: [{ kind: 'delete-rule' }] } : noop('already gone')),
    async apply(context) {
      await deleteRule(context.clients.events, workflowNames(context.stack).ruleName);
      return undefined;
    },
  };
}

function stateMachineRemovalStep(when: (context: ProvisionContext) => boolean, idSuffix = ''): Step<StateMachineDescription | undefined, StateMachineRemovalOp> {
  return {
    id: `state-machine${idSuffix}`,
    resource: 'State machine',
    name: (context) => workflowNames(context.stack).stateMachineName,
    observe: (context) => (when(context) ? describeStateMachine(context.clients.sfn, workflowNames(context.stack).stateMachineArn) : Promise.resolve(undefined)),
    plan: (_context, observed): Plan<StateMachineRemovalOp> =>
      observed ? { action: 'delete', reason: 'workflow mode is off', ops: [{ kind: 'delete-state-machine' }] } : noop('already gone'),
    async apply(context) {
      await deleteStateMachine(context.clients.sfn, workflowNames(context.stack).stateMachineArn);
      return undefined;
    },
  };
}

const always = (): boolean => true;
const inDirectMode = (context: ProvisionContext): boolean => !workflowMode(context);

// ---------------------------------------------------------------------------------------------------
// The execution log group (Express workflows keep no history of their own).

const workflowLogGroup: LogGroupStepSpec = {
  id: 'workflow-logs',
  resource: 'Execution log group',
  logGroupName: (context) => workflowNames(context.stack).logGroupName,
  retentionDays: () => WORKFLOW_LOG_RETENTION_DAYS,
  reasonWhenNone: (days) => `retention ${days} days`,
  only: { when: workflowMode, otherwise: UNUSED },
};

export const workflowLogGroupStep = logGroupStepFor(workflowLogGroup);

/** Destroy's: the rule first (nothing starts executions), then the state machine and the roles. */
export const workflowRemovalSteps = {
  rule: ruleRemovalStep(always),
  stateMachine: stateMachineRemovalStep(always),
  eventsRole: workflowRoleRemovalStep(eventsRoleSpec, always),
  stateMachineRole: workflowRoleRemovalStep(stateMachineRoleSpec, always),
  logGroup: logGroupRemovalStepFor(workflowLogGroup, always),
};

/** Init's in direct mode: what an earlier workflow-mode init left, removed once the trigger is in place. */
export const workflowCleanupSteps = {
  rule: ruleRemovalStep(inDirectMode, '-cleanup'),
  stateMachine: stateMachineRemovalStep(inDirectMode, '-cleanup'),
  eventsRole: workflowRoleRemovalStep(eventsRoleSpec, inDirectMode, '-cleanup'),
  stateMachineRole: workflowRoleRemovalStep(stateMachineRoleSpec, inDirectMode, '-cleanup'),
  logGroup: logGroupRemovalStepFor(workflowLogGroup, inDirectMode, '-cleanup'),
};

// ---------------------------------------------------------------------------------------------------
// The source bucket's delivery to EventBridge (a bucket setting beside the notification entries).

export interface EventBridgeDeliveryOp { kind: 'enable-eventbridge-delivery'; bucket: string }

/**
 * Turns on the bucket's EventBridge delivery, keeping every other entry (our Lambda trigger included: the trigger
 * step removes it right after). It stays on when workflow mode is turned off: other consumers may rely on it.
 */
export const eventBridgeDeliveryStep: Step<NotificationConfiguration | undefined, EventBridgeDeliveryOp> = {
  id: 'bucket-events',
  resource: 'Bucket events to EventBridge',
  name: (context) => context.stack.settings.sourceBucket,
  observe: (context) => (workflowMode(context) ? getNotificationConfiguration(context.clients.s3, context.stack.settings.sourceBucket) : Promise.resolve(undefined)),
  plan(context, observed): Plan<EventBridgeDeliveryOp> {
    if (!workflowMode(context)) return noop(UNUSED);
    if (observed?.EventBridgeConfiguration) return noop('on');
    return { action: 'update', reason: '', ops: [{ kind: 'enable-eventbridge-delivery', bucket: context.stack.settings.sourceBucket }] };
  },
  async apply(context, _observed, _plan, _inputs, progress) {
    const { s3 } = context.clients;
    const bucket = context.stack.settings.sourceBucket;
    progress('turning on');
    // Re-read: the document is shared with whatever else uses the bucket.
    const current = (await getNotificationConfiguration(s3, bucket)) ?? {};
    const merged: NotificationConfiguration = { EventBridgeConfiguration: {} };
    if (current.TopicConfigurations?.length) merged.TopicConfigurations = current.TopicConfigurations;
    if (current.QueueConfigurations?.length) merged.QueueConfigurations = current.QueueConfigurations;
    if (current.LambdaFunctionConfigurations?.length) merged.LambdaFunctionConfigurations = current.LambdaFunctionConfigurations;
    await putNotificationConfiguration(s3, bucket, merged);
    return undefined;
  },
};
