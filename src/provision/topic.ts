import { createTopic, deleteTopic, getTopicAttributes, setTopicAttribute } from '../aws/sns.js';
import { operationalSettings } from '../config/settings.js';
import { TOPIC_KMS_KEY } from './stack.js';
import { noop, opsPlan, type Plan, type Step } from './types.js';

/** The topic's attributes as SNS returns them; undefined when there is no topic. */
export type ObservedTopic = Record<string, string> | undefined;

export type TopicOp =
  | { kind: 'create-topic'; kmsKey: string }
  | { kind: 'encrypt-topic'; from: string | undefined; to: string }
  | { kind: 'delete-topic'; reason: 'notifications-off' | 'destroy' };

export type TopicRemovalOp = Extract<TopicOp, { kind: 'delete-topic' }>;

export function planTopic(wanted: boolean, observed: ObservedTopic): Plan<TopicOp> {
  if (!wanted) {
    return observed
      ? { action: 'delete', reason: 'notifications are off (--no-notifications)', ops: [{ kind: 'delete-topic', reason: 'notifications-off' }] }
      : noop('notifications are off');
  }
  if (!observed) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-topic', kmsKey: TOPIC_KMS_KEY }] };
  const ops: TopicOp[] = [];
  const key = observed.KmsMasterKeyId;
  if (key !== TOPIC_KMS_KEY) ops.push({ kind: 'encrypt-topic', from: key === '' ? undefined : key, to: TOPIC_KMS_KEY });
  return opsPlan(ops, `encrypted with ${TOPIC_KMS_KEY}`);
}

/** The SNS topic the function publishes each record's outcome to (NOTIFY_TOPIC_ARN). */
export const topicStep: Step<ObservedTopic, TopicOp> = {
  id: 'topic',
  resource: 'Outcomes topic',
  name: (context) => context.stack.topicName,
  observe: (context) => getTopicAttributes(context.clients.sns, context.stack.topicArn),
  plan: (context, observed) => planTopic(operationalSettings(context.stack.settings).notifications, observed),
  async apply(context, _observed, plan, _inputs, progress) {
    const { sns } = context.clients;
    const { topicName, topicArn, tags } = context.stack;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-topic':
          progress('creating');
          await createTopic(sns, topicName, op.kmsKey, tags);
          break;
        case 'encrypt-topic':
          await setTopicAttribute(sns, topicArn, 'KmsMasterKeyId', op.to);
          break;
        case 'delete-topic':
          progress('deleting');
          await deleteTopic(sns, topicArn);
          break;
      }
    }
    return undefined;
  },
};

export const topicRemovalStep: Step<ObservedTopic, TopicRemovalOp> = {
  id: 'topic',
  resource: 'Outcomes topic',
  name: (context) => context.stack.topicName,
  observe: (context) => getTopicAttributes(context.clients.sns, context.stack.topicArn),
  plan: (_context, observed): Plan<TopicRemovalOp> =>
    observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-topic', reason: 'destroy' }] } : noop('already gone'),
  async apply(context) {
    await deleteTopic(context.clients.sns, context.stack.topicArn);
    return undefined;
  },
};
