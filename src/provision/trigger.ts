import type { FilterRule, LambdaFunctionConfiguration, NotificationConfiguration } from '@aws-sdk/client-s3';
import pRetry from 'p-retry';
import { awsErrorName } from '../errors.js';
import { getNotificationConfiguration, putNotificationConfiguration } from '../aws/s3.js';
import { loadTemplate, renderTemplate } from './templates.js';
import { changesPlan, type Plan, type ProvisionContext, type Step } from './types.js';

/** Our entry in the source bucket's notification configuration (from templates/notification-configuration.json). */
export function desiredTrigger(input: { id: string; functionArn: string; prefix?: string | undefined; suffix?: string | undefined }): LambdaFunctionConfiguration {
  const rendered = renderTemplate(loadTemplate('notification-configuration.json'), {
    id: input.id,
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

function filterRules(entry: LambdaFunctionConfiguration): string[] {
  // S3 returns rule names as Prefix/Suffix whatever case they were written in.
  return (entry.Filter?.Key?.FilterRules ?? [])
    .map((rule: FilterRule) => `${(rule.Name ?? '').toLowerCase()}=${rule.Value ?? ''}`)
    .sort();
}

export function triggerDifferences(desired: LambdaFunctionConfiguration, actual: LambdaFunctionConfiguration): string[] {
  const changes: string[] = [];
  if (actual.Id !== desired.Id) changes.push(`id ${actual.Id ?? 'none'} → ${desired.Id ?? ''}`);
  if (actual.LambdaFunctionArn !== desired.LambdaFunctionArn) changes.push(`target ${actual.LambdaFunctionArn ?? 'none'} → ${desired.LambdaFunctionArn ?? ''}`);
  const events = [...(actual.Events ?? [])].sort().join(',');
  const wantEvents = [...(desired.Events ?? [])].sort().join(',');
  if (events !== wantEvents) changes.push(`events ${events || 'none'} → ${wantEvents}`);
  const rules = filterRules(actual).join(', ');
  const wantRules = filterRules(desired).join(', ');
  if (rules !== wantRules) changes.push(`filter ${rules || 'none'} → ${wantRules || 'none'}`);
  return changes;
}

/** Observed: the bucket's configuration, or undefined when the bucket does not exist yet. */
export function planTrigger(desired: LambdaFunctionConfiguration, observed: NotificationConfiguration | undefined): Plan {
  const ours = (observed?.LambdaFunctionConfigurations ?? []).filter((entry) => isOurs(entry, desired));
  const [first] = ours;
  const target = `ObjectCreated → ${desired.LambdaFunctionArn ?? ''}`;
  if (!first) return { action: 'create', reason: 'no trigger on the source bucket', changes: [target] };
  const changes = ours.length > 1 ? [`${ours.length} entries target the function; keep one`] : triggerDifferences(desired, first);
  return changesPlan(changes, target);
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

export function ourTrigger(context: ProvisionContext): LambdaFunctionConfiguration {
  const { stack } = context;
  return desiredTrigger({
    id: stack.notificationId,
    functionArn: context.outputs.functionArn ?? stack.functionArn,
    prefix: stack.settings.prefix,
    suffix: stack.settings.suffix,
  });
}

export const triggerStep: Step<NotificationConfiguration | undefined> = {
  id: 'trigger',
  resource: 'Upload trigger',
  name: (context) => `${context.stack.settings.sourceBucket} → ${context.stack.settings.functionName}`,
  observe: (context) => getNotificationConfiguration(context.clients.s3, context.stack.settings.sourceBucket),
  plan: (context, observed) => planTrigger(ourTrigger(context), observed),
  async apply(context, _observed, _plan, progress) {
    const { s3 } = context.clients;
    const bucket = context.stack.settings.sourceBucket;
    progress('configuring');
    // Re-read right before writing: the configuration is one document shared with whatever else uses the bucket.
    const current = await getNotificationConfiguration(s3, bucket);
    // S3 checks that it may invoke the function; a permission added seconds ago may not be visible to it yet.
    await pRetry(() => putNotificationConfiguration(s3, bucket, mergeTrigger(current, ourTrigger(context))), {
      retries: 6,
      minTimeout: 1_000,
      maxTimeout: 5_000,
      shouldRetry: ({ error }) => awsErrorName(error) === 'InvalidArgument' && /Unable to validate/i.test(error.message),
    });
  },
};
