import type { Event, FilterRule, LambdaFunctionConfiguration, NotificationConfiguration } from '@aws-sdk/client-s3';
import pRetry from 'p-retry';
import { CliError, awsErrorName, errorMessage } from '../errors.js';
import { getNotificationConfiguration, putNotificationConfiguration } from '../aws/s3.js';
import { operationalSettings } from '../config/settings.js';
import { loadTemplate, renderTemplate } from './templates.js';
import { blocked, noop, opsPlan, type Blocker, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';
import { workflowModeFor } from '../config/stack-settings.js';

/** Our entry in the source bucket's notification configuration (from templates/notification-configuration.json). */
export function desiredTrigger(input: {
  id: string;
  functionArn: string;
  prefix?: string | undefined;
  suffix?: string | undefined;
  /** Removals too, so the function removes the outputs and marks the item of a removed source (not with --keep-on-delete). */
  includeRemovals?: boolean | undefined;
}): LambdaFunctionConfiguration {
  const rendered = renderTemplate(loadTemplate('notification-configuration.json'), {
    id: input.id,
    events: input.includeRemovals ? ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] : ['s3:ObjectCreated:*'],
    functionArn: input.functionArn,
    prefix: input.prefix === '' ? undefined : input.prefix,
    suffix: input.suffix === '' ? undefined : input.suffix,
  }) as unknown as LambdaFunctionConfiguration;
  // Rules without a value were dropped by the renderer; a filter with no rules is no filter.
  const rules = (rendered.Filter?.Key?.FilterRules ?? []).filter((rule) => rule.Value !== undefined);
  if (rules.length === 0) delete rendered.Filter;
  else rendered.Filter = { Key: { FilterRules: rules } };
  return rendered;
}

/** A configuration entry is ours when it has our Id or targets our function (an older run, a manual setup). */
export function isOurs(entry: LambdaFunctionConfiguration, ours: LambdaFunctionConfiguration): boolean {
  return entry.Id === ours.Id || entry.LambdaFunctionArn === ours.LambdaFunctionArn;
}

/** Any configuration entry: topic, queue or function. */
interface NotificationEntry {
  Id?: string | undefined;
  Events?: Event[] | string[] | undefined;
  Filter?: { Key?: { FilterRules?: FilterRule[] | undefined } | undefined } | undefined;
}

function filterValue(entry: NotificationEntry, name: 'prefix' | 'suffix'): string {
  return (entry.Filter?.Key?.FilterRules ?? []).find((rule) => (rule.Name ?? '').toLowerCase() === name)?.Value ?? '';
}

/** s3:ObjectCreated:* covers s3:ObjectCreated:Put; equal types overlap too. */
function eventsOverlap(a: readonly string[], b: readonly string[]): boolean {
  const covers = (wide: string, narrow: string): boolean => wide === narrow || (wide.endsWith('*') && narrow.startsWith(wide.slice(0, -1)));
  return a.some((x) => b.some((y) => covers(x, y) || covers(y, x)));
}

/**
 * The entries S3 would refuse to hold next to ours ("Configurations overlap"): a shared event type where one
 * prefix starts the other and one suffix ends the other (an absent filter matches every key).
 */
export function overlappingEntries(existing: NotificationConfiguration | undefined, ours: LambdaFunctionConfiguration): { id: string; destination: string }[] {
  const ourEvents = ours.Events ?? [];
  const [prefix, suffix] = [filterValue(ours, 'prefix'), filterValue(ours, 'suffix')];
  const overlaps = (entry: NotificationEntry): boolean => {
    const [p, s] = [filterValue(entry, 'prefix'), filterValue(entry, 'suffix')];
    return (
      eventsOverlap(ourEvents, entry.Events ?? []) &&
      (p.startsWith(prefix) || prefix.startsWith(p)) &&
      (s.endsWith(suffix) || suffix.endsWith(s))
    );
  };
  const candidates: { entry: NotificationEntry; destination: string }[] = [
    ...(existing?.LambdaFunctionConfigurations ?? []).filter((e) => !isOurs(e, ours)).map((e) => ({ entry: e, destination: e.LambdaFunctionArn ?? '' })),
    ...(existing?.QueueConfigurations ?? []).map((e) => ({ entry: e, destination: e.QueueArn ?? '' })),
    ...(existing?.TopicConfigurations ?? []).map((e) => ({ entry: e, destination: e.TopicArn ?? '' })),
  ];
  return candidates.filter((c) => overlaps(c.entry)).map((c) => ({ id: c.entry.Id ?? '(no id)', destination: c.destination }));
}

function triggerOverlap(bucket: string, others: { id: string; destination: string }[]): { reason: string; blocker: Blocker } {
  const list = others.length > 0 ? others.map((o) => `"${o.id}" → ${o.destination}`).join(', ') : 'another configuration on the bucket';
  return {
    reason: `S3 cannot add the upload trigger on ${bucket}: ${list} already receives ObjectCreated events for the same keys.`,
    blocker: {
      code: 'TRIGGER_OVERLAP',
      suggestion:
        'S3 sends each event to one destination per key: give the trigger a prefix or suffix the other configuration does not cover ' +
        '(--trigger-prefix uploads/ or --trigger-suffix .jpg), narrow or remove the other configuration, or fan out through SNS/EventBridge.',
    },
  };
}

function triggerOverlapError(bucket: string, others: { id: string; destination: string }[], cause?: unknown): CliError {
  const { reason, blocker } = triggerOverlap(bucket, others);
  return new CliError(blocker.code, reason, { suggestion: blocker.suggestion, ...(cause === undefined ? {} : { cause }) });
}

function filterRules(entry: LambdaFunctionConfiguration): string[] {
  // S3 returns rule names as Prefix/Suffix whatever case they were written in.
  return (entry.Filter?.Key?.FilterRules ?? [])
    .map((rule: FilterRule) => `${(rule.Name ?? '').toLowerCase()}=${rule.Value ?? ''}`)
    .sort();
}

export type TriggerField = 'id' | 'target' | 'events' | 'filter';

export type TriggerOp =
  | { kind: 'add-trigger'; functionArn: string; events?: string[] | undefined }
  | { kind: 'replace-trigger'; changes: { field: TriggerField; from: string; to: string }[] }
  /** Several entries (older runs, a manual setup) target the function: one is kept. */
  | { kind: 'keep-one-trigger'; count: number };

export interface TriggerRemovalOp { kind: 'remove-trigger'; id: string }

export function triggerDifferences(desired: LambdaFunctionConfiguration, actual: LambdaFunctionConfiguration): { field: TriggerField; from: string; to: string }[] {
  const changes: { field: TriggerField; from: string; to: string }[] = [];
  if (actual.Id !== desired.Id) changes.push({ field: 'id', from: actual.Id ?? 'none', to: desired.Id ?? '' });
  if (actual.LambdaFunctionArn !== desired.LambdaFunctionArn) changes.push({ field: 'target', from: actual.LambdaFunctionArn ?? 'none', to: desired.LambdaFunctionArn ?? '' });
  const events = [...(actual.Events ?? [])].sort().join(',');
  const wantEvents = [...(desired.Events ?? [])].sort().join(',');
  if (events !== wantEvents) changes.push({ field: 'events', from: events || 'none', to: wantEvents });
  const rules = filterRules(actual).join(', ');
  const wantRules = filterRules(desired).join(', ');
  if (rules !== wantRules) changes.push({ field: 'filter', from: rules || 'none', to: wantRules || 'none' });
  return changes;
}

/** Observed: the bucket's configuration, or undefined when the bucket does not exist yet. */
export function planTrigger(desired: LambdaFunctionConfiguration, observed: NotificationConfiguration | undefined): Plan<TriggerOp> {
  const ours = (observed?.LambdaFunctionConfigurations ?? []).filter((entry) => isOurs(entry, desired));
  const [first] = ours;
  const functionArn = desired.LambdaFunctionArn ?? '';
  if (!first) return { action: 'create', reason: 'no trigger on the source bucket', ops: [{ kind: 'add-trigger', functionArn, events: desired.Events ?? [] }] };
  if (ours.length > 1) return opsPlan([{ kind: 'keep-one-trigger', count: ours.length }], '');
  const changes = triggerDifferences(desired, first);
  return opsPlan(changes.length > 0 ? [{ kind: 'replace-trigger', changes }] : [], `ObjectCreated → ${functionArn}`);
}

/** The bucket's configuration with ours in place of any older entry of ours; everything else kept as is. */
export function mergeTrigger(existing: NotificationConfiguration | undefined, ours: LambdaFunctionConfiguration): NotificationConfiguration {
  const others = (existing?.LambdaFunctionConfigurations ?? []).filter((entry) => !isOurs(entry, ours));
  return compact({ ...existing, LambdaFunctionConfigurations: [...others, ours] });
}

/** The bucket's configuration without our entry (destroy). */
export function removeTrigger(existing: NotificationConfiguration, ours: LambdaFunctionConfiguration): NotificationConfiguration {
  const others = (existing.LambdaFunctionConfigurations ?? []).filter((entry) => !isOurs(entry, ours));
  return compact({ ...existing, LambdaFunctionConfigurations: others });
}

function compact(configuration: NotificationConfiguration): NotificationConfiguration {
  const out: NotificationConfiguration = {};
  if (configuration.TopicConfigurations?.length) out.TopicConfigurations = configuration.TopicConfigurations;
  if (configuration.QueueConfigurations?.length) out.QueueConfigurations = configuration.QueueConfigurations;
  if (configuration.LambdaFunctionConfigurations?.length) out.LambdaFunctionConfigurations = configuration.LambdaFunctionConfigurations;
  if (configuration.EventBridgeConfiguration) out.EventBridgeConfiguration = configuration.EventBridgeConfiguration;
  return out;
}

export function ourTrigger(context: ProvisionContext, inputs: Readonly<StackOutputs>): LambdaFunctionConfiguration {
  const { stack } = context;
  return desiredTrigger({
    id: stack.notificationId,
    functionArn: inputs.functionArn ?? stack.functionArn,
    prefix: stack.settings.prefix,
    suffix: stack.settings.suffix,
    includeRemovals: !operationalSettings(stack.settings).keepOnDelete,
  });
}

/**
 * The direct trigger. In workflow mode (orchestration stepfunctions) it plans the removal of our entry instead:
 * the rule and EventBridge delivery exist by then (steps.ts), so uploads are never missed; the accepted risk is
 * the moment both deliver, absorbed by the idempotent conditional writes.
 */
export const triggerStep: Step<NotificationConfiguration | undefined, TriggerOp | TriggerRemovalOp> = {
  id: 'trigger',
  resource: 'Upload trigger',
  name: (context) => `${context.stack.settings.sourceBucket} → ${context.stack.settings.functionName}`,
  observe: (context) => getNotificationConfiguration(context.clients.s3, context.stack.settings.sourceBucket),
  plan(context, observed, inputs): Plan<TriggerOp | TriggerRemovalOp> {
    const ours = ourTrigger(context, inputs);
    if (workflowModeFor(context.stack.settings)) {
      return observed?.LambdaFunctionConfigurations?.some((entry) => isOurs(entry, ours))
        ? { action: 'delete', reason: 'workflow mode: uploads go through EventBridge', ops: [{ kind: 'remove-trigger', id: context.stack.notificationId }] }
        : noop('workflow mode: uploads go through EventBridge');
    }
    // Found before any change (and in a dry run and status), rather than as S3's terse refusal at the end.
    const others = overlappingEntries(observed, ours);
    if (others.length > 0) {
      const { reason, blocker } = triggerOverlap(context.stack.settings.sourceBucket, others);
      return blocked(reason, blocker);
    }
    return planTrigger(ours, observed);
  },
  // Every op is applied the same way: our entry, as desired, in place of any of ours in the shared document.
  async apply(context, _observed, plan, inputs, progress) {
    const { s3 } = context.clients;
    const bucket = context.stack.settings.sourceBucket;
    if (plan.ops.some((op) => op.kind === 'remove-trigger')) {
      progress('removing (workflow mode)');
      const latest = await getNotificationConfiguration(s3, bucket);
      if (latest) await putNotificationConfiguration(s3, bucket, removeTrigger(latest, ourTrigger(context, inputs)));
      return { detail: 'other notifications kept' };
    }
    progress('configuring');
    // Re-read right before writing: the configuration is one document shared with whatever else uses the bucket.
    const current = await getNotificationConfiguration(s3, bucket);
    const ours = ourTrigger(context, inputs);
    const others = overlappingEntries(current, ours);
    if (others.length > 0) throw triggerOverlapError(bucket, others);
    // S3 checks at this moment that it may invoke every destination in the document, ours included (so the
    // permission step comes first); a permission added seconds ago may not be visible to it yet, hence the retries.
    try {
      await pRetry(() => putNotificationConfiguration(s3, bucket, mergeTrigger(current, ours)), {
        retries: 6,
        minTimeout: 1_000,
        maxTimeout: 5_000,
        shouldRetry: ({ error }) => isUnvalidatedDestination(error),
      });
    } catch (error) {
      throw explainTriggerError(error, bucket, ours);
    }
    return undefined;
  },
};

/** Destroy's first step, so nothing starts the function while the rest goes; other notifications are kept. */
export const triggerRemovalStep: Step<NotificationConfiguration | undefined, TriggerRemovalOp> = {
  id: 'trigger',
  resource: 'Upload trigger',
  name: (context) => context.stack.settings.sourceBucket,
  observe: (context) => getNotificationConfiguration(context.clients.s3, context.stack.settings.sourceBucket),
  plan(context, observed): Plan<TriggerRemovalOp> {
    const ours = desiredTrigger({ id: context.stack.notificationId, functionArn: context.stack.functionArn });
    return observed?.LambdaFunctionConfigurations?.some((entry) => isOurs(entry, ours))
      ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'remove-trigger', id: context.stack.notificationId }] }
      : noop('already gone');
  },
  async apply(context) {
    const { s3 } = context.clients;
    const bucket = context.stack.settings.sourceBucket;
    const ours = desiredTrigger({ id: context.stack.notificationId, functionArn: context.stack.functionArn });
    // Re-read: the document is shared. Skip validation so another tool's dead destination cannot block removal.
    const current = await getNotificationConfiguration(s3, bucket);
    if (current) await putNotificationConfiguration(s3, bucket, removeTrigger(current, ours), { skipDestinationValidation: true });
    return { detail: 'other notifications kept' };
  },
};
function isUnvalidatedDestination(error: unknown): boolean {
  return awsErrorName(error) === 'InvalidArgument' && /Unable to validate/i.test(errorMessage(error));
}

/** S3's refusals of the notification document, said plainly. */
export function explainTriggerError(error: unknown, bucket: string, ours: LambdaFunctionConfiguration): unknown {
  if (awsErrorName(error) !== 'InvalidArgument') return error;
  const message = errorMessage(error);
  if (/overlap/i.test(message)) return triggerOverlapError(bucket, [], error);
  if (isUnvalidatedDestination(error)) {
    return new CliError('TRIGGER_DESTINATION_INVALID', `S3 refused the notification configuration of ${bucket}: ${message}`, {
      suggestion:
        `S3 checks every destination on the bucket, not only ${ours.LambdaFunctionArn ?? 'ours'}: if another listed destination ` +
        'no longer exists or no longer lets S3 send to it, fix or remove that entry; otherwise run `img-resizer init` again.',
      cause: error,
    });
  }
  return error;
}
