/**
 * The stack's steps, in the order init runs them and the order destroy removes them. Adding a resource is one
 * step file (its ops union, plan, apply and removal step) plus a line in each list here, its ops in
 * `ProvisionOp`, and its cases in src/ui/provision.ts `describeOp` (the compiler lists the missing ones).
 */
import type { StackSettings } from '../config/settings.js';
import {
  apiFunctionRemovalStep,
  apiFunctionStep,
  apiLogGroupRemovalStep,
  apiLogGroupStep,
  apiPermissionRemovalStep,
  apiPermissionStep,
  apiRoleRemovalStep,
  apiRoleStep,
  httpApiRemovalStep,
  httpApiStep,
  type HttpApiOp,
  type HttpApiRemovalOp,
} from './api.js';
import { bucketPolicyRemovalStep, bucketPolicyStep, type BucketPolicyOp, type BucketPolicyRemovalOp } from './bucket-policy.js';
import { cdnRemovalStep, cdnStep, type CdnOp, type CdnRemovalOp } from './cdn.js';
import type { WaitOptions } from '../aws/cloudfront.js';
import { bucketRemovalStep, bucketStep, type BucketOp, type BucketRemovalOp, type RemovalRetry } from './bucket.js';
import { functionRemovalStep, functionStep, type FunctionOp, type FunctionRemovalOp } from './function.js';
import { layerRemovalStep, layerStep, type LayerOp, type LayerRemovalOp } from './layer.js';
import { permissionRemovalStep, permissionStep, type PermissionOp, type PermissionRemovalOp } from './permission.js';
import { roleRemovalStep, roleStep, type RoleOp, type RoleRemovalOp } from './role.js';
import { defineStep, type RunnableStep } from './runner.js';
import { tableRemovalStep, tableStep, type TableOp, type TableRemovalOp } from './table.js';
import { triggerRemovalStep, triggerStep, type TriggerOp, type TriggerRemovalOp } from './trigger.js';
import { noop, type Step } from './types.js';
import { asyncInvokeStep, type AsyncInvokeOp } from './async-invoke.js';
import { failedEventsQueueRemovalStep, failedEventsQueueStep, type FailedEventsQueueOp, type FailedEventsQueueRemovalOp } from './failed-events-queue.js';
import { logGroupRemovalStep, logGroupStep, type LogGroupOp, type LogGroupRemovalOp } from './log-group.js';
import { tableRecoveryStep, type TableRecoveryOp } from './table-recovery.js';
import { topicRemovalStep, topicStep, type TopicOp, type TopicRemovalOp } from './topic.js';
import { subscriptionsStep, type SubscriptionOp } from './subscriptions.js';
import {
  backfillQueueRemovalStep,
  backfillQueueStep,
  queueMappingRemovalStep,
  queueMappingStep,
  type BackfillQueueOp,
  type BackfillQueueRemovalOp,
  type QueueMappingOp,
  type QueueMappingRemovalOp,
} from './backfill-queue.js';
import {
  eventBridgeDeliveryStep,
  eventsRoleStep,
  ruleStep,
  stateMachineRoleStep,
  stateMachineStep,
  workflowCleanupSteps,
  workflowRemovalSteps,
  type EventBridgeDeliveryOp,
  type RuleOp,
  type RuleRemovalOp,
  type StateMachineOp,
  type StateMachineRemovalOp,
  workflowLogGroupStep,
} from './workflow.js';
import { workflowModeFor } from '../config/stack-settings.js';

/** Every op any step plans, init's and destroy's. */
export type ProvisionOp =
  | BucketOp
  | BucketRemovalOp
  | TableOp
  | TableRemovalOp
  | RoleOp
  | RoleRemovalOp
  | LayerOp
  | LayerRemovalOp
  | FunctionOp
  | FunctionRemovalOp
  | PermissionOp
  | PermissionRemovalOp
  | TriggerOp
  | TriggerRemovalOp
  | TableRecoveryOp
  | LogGroupOp
  | LogGroupRemovalOp
  | TopicOp
  | TopicRemovalOp
  | FailedEventsQueueOp
  | FailedEventsQueueRemovalOp
  | AsyncInvokeOp
  | SubscriptionOp
  | HttpApiOp
  | HttpApiRemovalOp
  | CdnOp
  | CdnRemovalOp
  | BucketPolicyOp
  | BucketPolicyRemovalOp
  | BackfillQueueOp
  | BackfillQueueRemovalOp
  | QueueMappingOp
  | QueueMappingRemovalOp
  | StateMachineOp
  | StateMachineRemovalOp
  | RuleOp
  | RuleRemovalOp
  | EventBridgeDeliveryOp;

/** Account and partition come from STS (the context read them); every ARN is built with the partition. */
export const identityStep: Step<{ account: string; partition: string }, never> = {
  id: 'identity',
  resource: 'Account',
  name: (context) => context.stack.account,
  observe: (context) => Promise.resolve({ account: context.stack.account, partition: context.stack.partition }),
  plan: (context, observed) => noop(`partition ${observed.partition}, region ${context.stack.region}`),
  apply: () => Promise.resolve(undefined),
};

function bucketRoles(settings: StackSettings): ('source' | 'dest')[] {
  return settings.sourceBucket === settings.destBucket ? ['source'] : ['source', 'dest'];
}

export interface ProvisionStepOptions {
  /** init --wait-cdn: wait until CloudFront has deployed the distribution. */
  waitCdn?: boolean | undefined;
  cdnWait?: WaitOptions | undefined;
  /** The settings file said workflow mode before this run: in direct mode, remove what it made (after the trigger). */
  workflowLeftovers?: boolean | undefined;
}

/**
 * Every step, in dependency order: what the function needs exists before it, the trigger comes last. The CDN
 * comes before the bucket policy (which names its ARN) and the function (which writes its address into items).
 */
export function provisionSteps(settings: StackSettings, options: ProvisionStepOptions = {}): RunnableStep[] {
  const workflow = workflowModeFor(settings);
  return [
    defineStep(identityStep),
    ...bucketRoles(settings).map((which) => defineStep(bucketStep(which))),
    // Only with the CDN on (destroy also looks when it was turned off: the distribution stays until then).
    ...(settings.cdn === true ? [defineStep(cdnStep({ wait: options.waitCdn === true, ...(options.cdnWait ? { waitOptions: options.cdnWait } : {}) }))] : []),
    ...bucketRoles(settings).map((which) => defineStep(bucketPolicyStep(which))),
    defineStep(tableStep),
    defineStep(tableRecoveryStep),
    defineStep(logGroupStep),
    defineStep(topicStep),
    defineStep(subscriptionsStep),
    defineStep(failedEventsQueueStep),
    ...backfillQueueSteps(settings, 'queue'),
    defineStep(roleStep),
    defineStep(layerStep),
    defineStep(functionStep),
    defineStep(asyncInvokeStep),
    defineStep(permissionStep),
    // Workflow mode (no-ops in direct mode): the rule and EventBridge delivery come before the trigger step
    // removes the trigger, and in direct mode they go only after it is back, so no upload is ever missed.
    ...(workflow
      ? [defineStep(stateMachineRoleStep), defineStep(workflowLogGroupStep), defineStep(stateMachineStep), defineStep(eventsRoleStep), defineStep(ruleStep), defineStep(eventBridgeDeliveryStep)]
      : []),
    defineStep(triggerStep),
    ...backfillQueueSteps(settings, 'mapping'),
    ...apiSteps(settings),
    ...(!workflow && options.workflowLeftovers === true
      ? [
          defineStep(workflowCleanupSteps.rule),
          defineStep(workflowCleanupSteps.stateMachine),
          defineStep(workflowCleanupSteps.eventsRole),
          defineStep(workflowCleanupSteps.stateMachineRole),
          defineStep(workflowCleanupSteps.logGroup),
        ]
      : []),
  ];
}

/**
 * The backfill queue (issue 18, `init --backfill-queue`): the queue after the failed-events queue its redrive
 * policy names, the mapping once the function and its role's grant exist. `--no-backfill-queue` removes both
 * (the mapping first); a stack that never had one makes no call for it.
 */
function backfillQueueSteps(settings: StackSettings, part: 'queue' | 'mapping'): RunnableStep[] {
  if (settings.backfillQueue === true) return [part === 'queue' ? defineStep(backfillQueueStep) : defineStep(queueMappingStep)];
  if (settings.backfillQueue === false && part === 'mapping') return [defineStep(queueMappingRemovalStep), defineStep(backfillQueueRemovalStep)];
  return [];
}

/** The HTTP API's steps (`init --api`), after the pipeline: its function shares the layer. */
function apiSteps(settings: StackSettings): RunnableStep[] {
  if (settings.api !== true) return [];
  return [defineStep(apiRoleStep), defineStep(apiFunctionStep), defineStep(apiLogGroupStep), defineStep(httpApiStep), defineStep(apiPermissionStep)];
}

export interface RemovalOptions {
  keepBuckets: boolean;
  /** How often a bucket that keeps filling is emptied again (tests shorten the waits). */
  bucketRetry?: RemovalRetry | undefined;
  /** destroy --no-wait: disable the distribution and leave it; a later destroy deletes it. */
  noWait?: boolean | undefined;
  cdnWait?: WaitOptions | undefined;
}

/**
 * Destroy's steps: the trigger first, so nothing starts the function while the rest goes, then what depends on
 * the function before what it depends on; the buckets last, as they hold the data.
 */
export function removalSteps(settings: StackSettings, options: RemovalOptions): RunnableStep[] {
  // Workflow mode's resources exist only when the settings say so: the rule first, so no execution starts.
  const workflow = workflowModeFor(settings);
  return [
    // The API first: nothing new arrives through it while the rest goes.
    ...(settings.api === true
      ? [defineStep(httpApiRemovalStep), defineStep(apiPermissionRemovalStep), defineStep(apiFunctionRemovalStep), defineStep(apiLogGroupRemovalStep), defineStep(apiRoleRemovalStep)]
      : []),
    ...(workflow ? [defineStep(workflowRemovalSteps.rule)] : []),
    defineStep(triggerRemovalStep),
    // Nothing starts the function from the backfill queue either (its queue goes with the failed-events queue).
    ...(settings.backfillQueue === undefined ? [] : [defineStep(queueMappingRemovalStep)]),
    ...(workflow
      ? [
          defineStep(workflowRemovalSteps.stateMachine),
          defineStep(workflowRemovalSteps.eventsRole),
          defineStep(workflowRemovalSteps.stateMachineRole),
          defineStep(workflowRemovalSteps.logGroup),
        ]
      : []),
    defineStep(permissionRemovalStep),
    defineStep(functionRemovalStep),
    defineStep(layerRemovalStep),
    defineStep(roleRemovalStep),
    // The async invoke configuration and point-in-time recovery go with the function and the table.
    defineStep(topicRemovalStep),
    ...(settings.backfillQueue === undefined ? [] : [defineStep(backfillQueueRemovalStep)]),
    defineStep(failedEventsQueueRemovalStep),
    defineStep(logGroupRemovalStep),
    defineStep(tableRemovalStep),
    // Whenever the settings mention a CDN, on or off (a distribution stays when it is turned off); a stack that
    // never had one makes no CloudFront call, so endpoints without CloudFront can still destroy it.
    ...(settings.cdn === undefined ? [] : [defineStep(cdnRemovalStep({ wait: options.noWait !== true, ...(options.cdnWait ? { waitOptions: options.cdnWait } : {}) }))]),
    ...bucketRoles(settings).map((which) => defineStep(bucketPolicyRemovalStep(which))),
    ...bucketRoles(settings).map((which) => defineStep(bucketRemovalStep(which, { keepBuckets: options.keepBuckets, retry: options.bucketRetry }))),
  ];
}
