import type { Event, FilterRule, LambdaFunctionConfiguration, NotificationConfiguration } from '@aws-sdk/client-s3';
import pRetry from 'p-retry';
import { CliError, awsErrorName, errorMessage } from '../errors.js';
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

function triggerOverlapError(bucket: string, others: { id: string; destination: string }[], cause?: unknown): CliError {
  const list = others.length > 0 ? others.map((o) => `"${o.id}" → ${o.destination}`).join(', ') : 'another configuration on the bucket';
  return new CliError(
    'TRIGGER_OVERLAP',
    `S3 cannot add the upload trigger on ${bucket}: ${list} already receives ObjectCreated events for the same keys.`,
    {
      suggestion:
        'S3 sends each event to one destination per key: give the trigger a prefix or suffix the other configuration does not cover ' +
        '(--trigger-prefix uploads/ or --trigger-suffix .jpg), narrow or remove the other configuration, or fan out through SNS/EventBridge.',
      ...(cause === undefined ? {} : { cause }),
    },
  );
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
  plan(context, observed) {
    const ours = ourTrigger(context);
    // Found before any change (and in a dry run and status), rather than as S3's terse refusal at the end.
    const others = overlappingEntries(observed, ours);
    if (others.length > 0) throw triggerOverlapError(context.stack.settings.sourceBucket, others);
    return planTrigger(ours, observed);
  },
  async apply(context, _observed, _plan, progress) {
    const { s3 } = context.clients;
    const bucket = context.stack.settings.sourceBucket;
    progress('configuring');
    // Re-read right before writing: the configuration is one document shared with whatever else uses the bucket.
    const current = await getNotificationConfiguration(s3, bucket);
    const ours = ourTrigger(context);
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
