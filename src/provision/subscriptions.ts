import { getSubscriptionAttributes, listTopicSubscriptions, setSubscriptionAttribute, subscribe } from '../aws/sns.js';
import { filterPolicy, notifyProtocol, type NotifyProtocol, type NotifyTarget } from '../config/notify-targets.js';
import { operationalSettings } from '../config/settings.js';
import { queueSendStatement } from './queue-documents.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type Step } from './types.js';

/** A subscription on the topic as SNS lists it, with its filter policy when confirmed. */
export interface ObservedSubscription {
  arn: string;
  protocol: string;
  endpoint: string;
  /** False for e-mail and HTTPS targets until their owner confirms. */
  confirmed: boolean;
  filterPolicy: string | undefined;
}

export type SubscriptionOp =
  | { kind: 'subscribe'; protocol: NotifyProtocol; endpoint: string; filterPolicy: string | undefined; grantNeeded: string | undefined }
  | { kind: 'set-filter-policy'; endpoint: string; subscriptionArn: string; from: string | undefined; to: string | undefined };

/**
 * What the owner of a queue or function must allow so the topic can deliver: init changes only what the stack
 * made, so it prints the grant instead of editing someone's queue policy or function policy.
 */
export function grantNeeded(protocol: NotifyProtocol, endpoint: string, topicArn: string): string | undefined {
  if (protocol === 'sqs') {
    const statement = queueSendStatement({ sid: 'AllowImgResizerTopic', service: 'sns.amazonaws.com', queueArn: endpoint, sourceArn: topicArn });
    return `add to the queue's policy: ${JSON.stringify(statement)}`;
  }
  if (protocol === 'lambda') {
    return `allow the topic to invoke it: aws lambda add-permission --function-name ${endpoint} --statement-id img-resizer-topic --action lambda:InvokeFunction --principal sns.amazonaws.com --source-arn ${topicArn}`;
  }
  return undefined;
}

/** Subscribes each target not yet subscribed and fixes differing filters. Subscriptions of others are left alone. */
export function planSubscriptions(targets: readonly NotifyTarget[], topicArn: string, observed: readonly ObservedSubscription[]): Plan<SubscriptionOp> {
  const ops: SubscriptionOp[] = [];
  for (const target of targets) {
    const protocol = notifyProtocol(target.endpoint);
    const wanted = filterPolicy(target);
    const existing = observed.find((s) => s.protocol === protocol && s.endpoint === target.endpoint);
    if (!existing) ops.push({ kind: 'subscribe', protocol, endpoint: target.endpoint, filterPolicy: wanted, grantNeeded: grantNeeded(protocol, target.endpoint, topicArn) });
    // An unconfirmed subscription has no attributes to set yet; it takes the filter it was created with.
    else if (existing.confirmed && normalize(existing.filterPolicy) !== normalize(wanted)) {
      ops.push({ kind: 'set-filter-policy', endpoint: target.endpoint, subscriptionArn: existing.arn, from: existing.filterPolicy, to: wanted });
    }
  }
  const count = targets.length;
  return opsPlan(ops, count === 0 ? 'no --notify targets' : `${count} target${count === 1 ? '' : 's'} subscribed as required`);
}

function normalize(policy: string | undefined): string {
  if (policy === undefined || policy === '' || policy === '{}') return '';
  try {
    const parsed = JSON.parse(policy) as Record<string, unknown>;
    return JSON.stringify(Object.fromEntries(Object.entries(parsed).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Array.isArray(v) ? [...(v as unknown[])].map(String).sort() : v])));
  } catch {
    return policy;
  }
}

async function observeSubscriptions(context: ProvisionContext): Promise<ObservedSubscription[]> {
  const { sns } = context.clients;
  const settings = operationalSettings(context.stack.settings);
  if (!settings.notifications) return [];
  const listed = await listTopicSubscriptions(sns, context.stack.topicArn);
  const targets = new Set((context.stack.settings.notify ?? []).map((t) => t.endpoint));
  // Attributes only of the subscriptions init manages: a temporary `events` queue is not its business.
  return Promise.all(
    listed.map(async (s) => {
      const arn = s.SubscriptionArn ?? '';
      const confirmed = arn.startsWith('arn:');
      const attributes = confirmed && targets.has(s.Endpoint ?? '') ? await getSubscriptionAttributes(sns, arn) : undefined;
      return { arn, protocol: s.Protocol ?? '', endpoint: s.Endpoint ?? '', confirmed, filterPolicy: attributes?.FilterPolicy };
    }),
  );
}

/** The `--notify` targets' subscriptions to the outcomes topic (gone with the topic on destroy or --no-notifications). */
export const subscriptionsStep: Step<ObservedSubscription[], SubscriptionOp> = {
  id: 'subscriptions',
  resource: 'Notify targets',
  name: (context) => context.stack.topicName,
  observe: (context) => observeSubscriptions(context),
  plan: (context, observed) =>
    operationalSettings(context.stack.settings).notifications
      ? planSubscriptions(context.stack.settings.notify ?? [], context.stack.topicArn, observed)
      : noop('notifications are off'),
  async apply(context, _observed, plan) {
    const { sns } = context.clients;
    const grants: string[] = [];
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'subscribe':
          await subscribe(sns, context.stack.topicArn, {
            protocol: op.protocol,
            endpoint: op.endpoint,
            attributes: {
              ...(op.filterPolicy === undefined ? {} : { FilterPolicy: op.filterPolicy }),
              // Queues and functions get the function's JSON as it is, not wrapped in SNS's envelope.
              ...(op.protocol === 'sqs' || op.protocol === 'https' ? { RawMessageDelivery: 'true' } : {}),
            },
          });
          if (op.grantNeeded) grants.push(`${op.endpoint}: ${op.grantNeeded}`);
          break;
        case 'set-filter-policy':
          // SNS takes an empty policy as "no filter".
          await setSubscriptionAttribute(sns, op.subscriptionArn, 'FilterPolicy', op.to ?? '{}');
          break;
      }
    }
    return grants.length > 0 ? { detail: grants.join('\n') } : undefined;
  },
};
