import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  paginateListSubscriptionsByTopic,
  type SNSClient,
  type Subscription,
} from '@aws-sdk/client-sns';
import { awsErrorName } from '../errors.js';

function isNotFound(error: unknown): boolean {
  return awsErrorName(error) === 'NotFoundException' || awsErrorName(error) === 'NotFound';
}

/** The topic's attributes, or undefined when there is no such topic. */
export async function getTopicAttributes(sns: SNSClient, topicArn: string): Promise<Record<string, string> | undefined> {
  try {
    return (await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes ?? {};
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates (or, CreateTopic being idempotent, finds) the topic, encrypted with the given KMS key. */
export async function createTopic(sns: SNSClient, name: string, kmsKeyId: string, tags: Record<string, string>): Promise<string> {
  const response = await sns.send(
    new CreateTopicCommand({
      Name: name,
      Attributes: { KmsMasterKeyId: kmsKeyId },
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  if (!response.TopicArn) throw new Error(`CreateTopic ${name} returned no ARN`);
  return response.TopicArn;
}

export async function setTopicAttribute(sns: SNSClient, topicArn: string, name: string, value: string): Promise<void> {
  await sns.send(new SetTopicAttributesCommand({ TopicArn: topicArn, AttributeName: name, AttributeValue: value }));
}

/** Deletes the topic and its subscriptions; DeleteTopic is idempotent. */
export async function deleteTopic(sns: SNSClient, topicArn: string): Promise<void> {
  await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
}

export async function listTopicSubscriptions(sns: SNSClient, topicArn: string): Promise<Subscription[]> {
  const subscriptions: Subscription[] = [];
  try {
    for await (const page of paginateListSubscriptionsByTopic({ client: sns }, { TopicArn: topicArn })) subscriptions.push(...(page.Subscriptions ?? []));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return subscriptions;
}

export interface SubscriptionSpec {
  protocol: string;
  endpoint: string;
  attributes: Record<string, string>;
}

/** Subscribes; returns the subscription's ARN ("pending confirmation" for e-mail and HTTPS until confirmed). */
export async function subscribe(sns: SNSClient, topicArn: string, spec: SubscriptionSpec): Promise<string> {
  const response = await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: spec.protocol, Endpoint: spec.endpoint, Attributes: spec.attributes, ReturnSubscriptionArn: true }),
  );
  return response.SubscriptionArn ?? '';
}

/** Removes a subscription; one already gone is not an error. */
export async function unsubscribe(sns: SNSClient, subscriptionArn: string): Promise<void> {
  try {
    await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** A confirmed subscription's attributes (FilterPolicy, RawMessageDelivery, ...); undefined when it is gone. */
export async function getSubscriptionAttributes(sns: SNSClient, subscriptionArn: string): Promise<Record<string, string> | undefined> {
  try {
    return (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }))).Attributes ?? {};
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function setSubscriptionAttribute(sns: SNSClient, subscriptionArn: string, name: string, value: string): Promise<void> {
  await sns.send(new SetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn, AttributeName: name, AttributeValue: value }));
}
