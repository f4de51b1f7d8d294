import type { FunctionConfiguration, LayerVersionsListItem } from '@aws-sdk/client-lambda';
import type { NotificationConfiguration } from '@aws-sdk/client-s3';
import type { Role } from '@aws-sdk/client-iam';
import { loadStackSettings, type StackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { publicResults, runSteps, type RunStepResult } from '../provision/runner.js';
import { stackModel, type StackModel } from '../provision/stack.js';
import { workflowNames } from '../provision/workflow.js';
import type { ObservedRule } from '../aws/eventbridge.js';
import type { StateMachineDescription } from '../aws/stepfunctions.js';
import { provisionSteps, type ProvisionOp } from '../provision/steps.js';
import { desiredTrigger, isOurs } from '../provision/trigger.js';
import { queueDepth, type ObservedQueue } from '../provision/failed-events-queue.js';
import type { StepResult } from '../provision/types.js';
import { checkRegion, targetRegion } from './provision-target.js';
import type { RecentExecutions } from './executions.js';
import { runtimeWarning, type RuntimeWarning } from '../runtimes.js';
import { workflowModeFor } from '../config/stack-settings.js';

/** One check of the wiring between resources. */
export interface LinkCheck {
  link: string;
  ok: boolean;
  detail: string;
}

/** ok: as the settings say; drifted: something differs; not-deployed: nothing of the stack exists (say, after destroy). */
export type StackState = 'ok' | 'drifted' | 'not-deployed';

export interface StatusResult {
  exitCode: ExitCode;
  state: StackState;
  ok: boolean;
  settings: StackSettings;
  resources: StepResult<ProvisionOp>[];
  links: LinkCheck[];
  /** Messages in the failed-events queue (exit 3 when any). */
  failedEvents: number;
  /** Workflow mode: the outcomes of the state machine's last executions (informational, never drift). */
  recentExecutions?: RecentExecutions;
  /**
   * Deployed functions whose runtime Lambda has deprecated or deprecates within 90 days (or that img-resizer does
   * not support). A warning, not drift: the exit code stays what the resources and links say.
   */
  runtimeWarnings: FunctionRuntimeWarning[];
}

export interface FunctionRuntimeWarning extends RuntimeWarning {
  functionName: string;
}

/** The runtime warnings of the functions the steps observed (the resize function, and the API's when deployed). */
export function functionRuntimeWarnings(results: readonly RunStepResult[], today: Date): FunctionRuntimeWarning[] {
  const warnings: FunctionRuntimeWarning[] = [];
  for (const id of ['function', 'api-function']) {
    const observed = observedOf(results, id) as FunctionConfiguration | undefined;
    if (observed?.Runtime === undefined) continue;
    const warning = runtimeWarning(observed.Runtime, today);
    if (warning) warnings.push({ functionName: observed.FunctionName ?? id, ...warning });
  }
  return warnings;
}

function observedOf(results: readonly RunStepResult[], id: string): unknown {
  return results.find((r) => r.id === id)?.observed;
}

function exists(results: readonly RunStepResult[], id: string): boolean {
  const result = results.find((r) => r.id === id);
  return result !== undefined && result.status !== 'failed' && result.action !== 'create';
}

/** Workflow mode's chain: bucket → EventBridge → rule → state machine → function. */
function workflowLinks(stack: StackModel, results: readonly RunStepResult[], functionArn: string): LinkCheck[] {
  const names = workflowNames(stack);
  const rule = observedOf(results, 'rule') as ObservedRule | undefined;
  const machine = observedOf(results, 'state-machine') as StateMachineDescription | undefined;
  const delivery = results.find((r) => r.id === 'bucket-events');
  const target = rule?.targets.find((t) => t.Arn === names.stateMachineArn);
  let invoked: unknown;
  try {
    invoked = (JSON.parse(machine?.definition ?? '{}') as { States?: { Resize?: { Parameters?: { FunctionName?: unknown } } } }).States?.Resize?.Parameters?.FunctionName;
  } catch {
    invoked = undefined;
  }
  return [
    delivery?.action === 'no-op'
      ? { link: 'bucket → EventBridge', ok: true, detail: `${stack.settings.sourceBucket} sends its events` }
      : { link: 'bucket → EventBridge', ok: false, detail: `${stack.settings.sourceBucket} does not send its events to EventBridge` },
    !rule
      ? { link: 'rule → state machine', ok: false, detail: `no rule ${names.ruleName}` }
      : { link: 'rule → state machine', ok: target !== undefined && rule.state === 'ENABLED', detail: target ? `${names.ruleName} → ${names.stateMachineName}${rule.state === 'ENABLED' ? '' : ' (disabled)'}` : 'the rule does not target the state machine' },
    !target
      ? { link: 'rule → failed-events queue', ok: false, detail: 'no target to check' }
      : target.DeadLetterConfig?.Arn === stack.failedEventsQueueArn
        ? { link: 'rule → failed-events queue', ok: true, detail: `undeliverable uploads → ${stack.failedEventsQueueName}` }
        : { link: 'rule → failed-events queue', ok: false, detail: 'the target has no dead-letter queue: an upload EventBridge cannot deliver is lost (run init)' },
    !machine
      ? { link: 'state machine → function', ok: false, detail: 'the state machine does not exist' }
      : { link: 'state machine → function', ok: invoked === functionArn, detail: invoked === functionArn ? `${names.stateMachineName} → ${stack.settings.functionName}` : `invokes ${String(invoked)}` },
  ];
}

/** The links between resources, from what the steps observed. Pure, so it is tested without AWS. */
export function checkLinks(stack: StackModel, results: readonly RunStepResult[]): LinkCheck[] {
  // The observations are the steps' own (see each step's observe); status reads them by step id.
  const fn = observedOf(results, 'function') as FunctionConfiguration | undefined;
  const role = (observedOf(results, 'role') as { role: Role | undefined } | undefined)?.role;
  const layers = (observedOf(results, 'layer') as { versions: LayerVersionsListItem[] } | undefined)?.versions ?? [];
  const notification = observedOf(results, 'trigger') as NotificationConfiguration | undefined;
  const { settings } = stack;
  const links: LinkCheck[] = [];

  const functionArn = fn?.FunctionArn ?? stack.functionArn;
  const ours = desiredTrigger({ id: stack.notificationId, functionArn, prefix: settings.prefix, suffix: settings.suffix });
  const entry = (notification?.LambdaFunctionConfigurations ?? []).find((e) => isOurs(e, ours));
  const triggerLink: LinkCheck =
    !entry
      ? { link: 'trigger → function', ok: false, detail: `no trigger on ${settings.sourceBucket}` }
      : entry.LambdaFunctionArn !== functionArn
        ? { link: 'trigger → function', ok: false, detail: `targets ${entry.LambdaFunctionArn ?? 'nothing'}` }
        : { link: 'trigger → function', ok: fn !== undefined, detail: fn ? `${settings.sourceBucket} → ${settings.functionName}` : 'the function does not exist' };
  // Workflow mode has no trigger: uploads reach the function through EventBridge and the state machine.
  links.push(...(workflowModeFor(settings) ? workflowLinks(stack, results, functionArn) : [triggerLink]));

  if (!fn) {
    links.push({ link: 'function → role', ok: false, detail: 'the function does not exist' });
  } else {
    const ok = role !== undefined && fn.Role === role.Arn;
    links.push({ link: 'function → role', ok, detail: ok ? settings.roleName : role ? `uses ${fn.Role ?? 'no role'}` : `role ${settings.roleName} does not exist` });
  }

  const environment = fn?.Environment?.Variables ?? {};
  const targets: { name: string; id: string }[] = [
    { name: settings.destBucket, id: settings.sourceBucket === settings.destBucket ? 'source-bucket' : 'dest-bucket' },
    { name: settings.table, id: 'table' },
  ];
  for (const target of targets) {
    const variables = Object.entries(stack.environment).filter(([, value]) => value === target.name).map(([key]) => key);
    const wrong = variables.filter((key) => environment[key] !== target.name);
    const link = `environment → ${target.id === 'table' ? 'table' : 'destination bucket'}`;
    if (!fn) links.push({ link, ok: false, detail: 'the function does not exist' });
    else if (wrong.length > 0) links.push({ link, ok: false, detail: wrong.map((key) => `${key}=${environment[key] ?? '(unset)'}`).join(', ') });
    else if (!exists(results, target.id)) links.push({ link, ok: false, detail: `${target.name} does not exist` });
    else links.push({ link, ok: true, detail: variables.map((key) => `${key}=${target.name}`).join(', ') });
  }

  const latest = layers[0]?.LayerVersionArn;
  const attached = (fn?.Layers ?? []).map((l) => l.Arn ?? '');
  links.push(
    latest === undefined
      ? { link: 'layer attached', ok: false, detail: `no version of ${settings.layerName}` }
      : { link: 'layer attached', ok: attached.includes(latest), detail: attached.includes(latest) ? latest : `function has ${attached.join(', ') || 'no layer'}` },
  );

  // Events the function failed on through every retry wait here: the stack is not healthy until they are handled.
  const queue = observedOf(results, 'failed-events-queue') as ObservedQueue | undefined;
  const depth = queueDepth(queue);
  links.push({
    link: 'failed events',
    ok: queue !== undefined && depth === 0,
    detail: queue === undefined ? `queue ${stack.failedEventsQueueName} does not exist` : depth === 0 ? 'none' : `${depth} waiting: see \`img-resizer failures list\``,
  });

  const permission = results.find((r) => r.id === 'permission');
  links.push({
    link: 'permission present',
    ok: permission?.action === 'no-op' && permission.status !== 'failed',
    detail: permission?.action === 'no-op' ? `s3.amazonaws.com from ${settings.sourceBucket}` : permissionDetail(permission),
  });
  return links;
}

function permissionDetail(result: RunStepResult | undefined): string {
  if (!result) return 'unknown';
  return result.changes.length > 0 ? result.changes.join('; ') : result.reason;
}

/** Whether nothing of the stack exists: every resource step would create its resource. */
export function nothingDeployed(results: readonly StepResult[]): boolean {
  // Identity and the --notify subscriptions (none to plan without targets) are not resources of their own.
  const resources = results.filter((r) => r.id !== 'identity' && r.id !== 'subscriptions');
  return resources.length > 0 && resources.every((r) => r.action === 'create' && r.status !== 'failed');
}

/** Checks every resource and link against the settings file; exit 3 on any drift, or when nothing is deployed. */
export async function runStatus(context: AppContext, options: { today?: Date } = {}): Promise<StatusResult> {
  const settings = await loadStackSettings(context.settingsFile);
  const clients = await context.clients();
  const identity = await context.identity();
  const region = await targetRegion(context);
  checkRegion(settings, region, context.settingsFile);
  const stack = stackModel(settings, identity, region);
  const results = await runSteps({ clients, stack, artifacts: undefined }, provisionSteps(settings), { dryRun: true, continueOnError: true });
  const links = checkLinks(stack, results);
  if (settings.cdn === true) {
    const { checkCdnLinks, probeCdn } = await import('./cdn-status.js');
    links.push(...checkCdnLinks(stack, results), await probeCdn(clients.s3, clients.target, stack, results));
  }
  const ok = results.every((r) => r.action === 'no-op' && r.status !== 'failed') && links.every((l) => l.ok);
  const state: StackState = ok ? 'ok' : nothingDeployed(results) ? 'not-deployed' : 'drifted';
  const failedEvents = queueDepth(observedOf(results, 'failed-events-queue') as ObservedQueue | undefined);
  const runtimeWarnings = functionRuntimeWarnings(results, options.today ?? new Date());
  const result: StatusResult = { exitCode: ok ? ExitCode.Ok : ExitCode.Drift, state, ok, settings, resources: publicResults(results), links, failedEvents, runtimeWarnings };
  // Read only when the state machine exists: its link above already says when it does not.
  if (workflowModeFor(settings) && exists(results, 'state-machine')) {
    const { recentExecutions } = await import('./executions.js');
    result.recentExecutions = await recentExecutions(clients.sfn, workflowNames(stack).stateMachineArn);
  }
  return result;
}
