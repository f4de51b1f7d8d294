import { randomBytes } from 'node:crypto';
import type { ImageNotification } from '../../lambda-src/core/notification.js';
import type { AwsClients } from '../aws/clients.js';
import { getTopicAttributes, subscribe, unsubscribe } from '../aws/sns.js';
import { createQueue, deleteMessage, deleteQueue, getQueueAttributes, receiveMessages, setQueueAttributes } from '../aws/sqs.js';
import { operationalSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { queueSendStatement } from '../provision/queue-documents.js';
import type { StackModel } from '../provision/stack.js';
import { loadStack } from './stack-context.js';

/** One message from the topic: the function's notification, or the raw text when it is not one. */
export type StackEvent = { kind: 'notification'; notification: ImageNotification } | { kind: 'other'; body: string };

export interface EventsOptions {
  /** Ends the stream: the queue and subscription are removed, then runEvents resolves. */
  signal: AbortSignal;
  onEvent: (event: StackEvent) => void | Promise<void>;
  /** Once subscribed: the queue's name (tests and the "listening" line). */
  onReady?: ((queueName: string) => void) | undefined;
  /** Long-poll length; tests shorten it. */
  waitSeconds?: number | undefined;
}

export interface EventsResult {
  exitCode: ExitCode;
  received: number;
  queueName: string;
}

/** Lets the topic, and nothing else, send to the queue. */
export function queuePolicyForTopic(queueArn: string, topicArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [queueSendStatement({ sid: 'FromStackTopicOnly', service: 'sns.amazonaws.com', queueArn, sourceArn: topicArn })],
  });
}

export function parseEvent(body: string): StackEvent {
  try {
    const parsed = JSON.parse(body) as Partial<ImageNotification>;
    if (typeof parsed === 'object' && typeof parsed.type === 'string' && typeof parsed.imageId === 'string') return { kind: 'notification', notification: parsed as ImageNotification };
  } catch {
    // Not JSON: someone else published to the topic.
  }
  return { kind: 'other', body };
}

async function ensureTopic(clients: AwsClients, stack: StackModel): Promise<void> {
  if (!operationalSettings(stack.settings).notifications) {
    throw new CliError('NOTIFICATIONS_OFF', `The stack ${stack.settings.stackName} has notifications turned off.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Run `img-resizer init --notifications` to create the topic, then `img-resizer events` again.',
    });
  }
  if ((await getTopicAttributes(clients.sns, stack.topicArn)) === undefined) {
    throw new CliError('TOPIC_MISSING', `The topic ${stack.topicName} does not exist.`, { suggestion: 'Run `img-resizer init` to create it.' });
  }
}

/**
 * Streams the stack's notifications until the signal aborts: a temporary queue (only the topic may send to it,
 * raw delivery so each message is the function's JSON) subscribed to the topic, removed again however the
 * stream ends. A queue left by a killed process expires on its own: its messages last at most an hour.
 */
export async function runEvents(context: AppContext, options: EventsOptions): Promise<EventsResult> {
  const { stack, clients } = await loadStack(context);
  await ensureTopic(clients, stack);
  const { sqs, sns } = clients;
  const queueName = `${stack.settings.stackName}-events-${randomBytes(4).toString('hex')}`;
  const queueUrl = await createQueue(sqs, queueName, { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '3600' }, { ...stack.tags, 'img-resizer:temporary': 'events' });
  let subscriptionArn: string | undefined;
  let received = 0;
  try {
    const queueArn = (await getQueueAttributes(sqs, queueUrl))?.QueueArn;
    if (!queueArn) throw new Error(`the new queue ${queueName} has no ARN`);
    await setQueueAttributes(sqs, queueUrl, { Policy: queuePolicyForTopic(queueArn, stack.topicArn) });
    subscriptionArn = await subscribe(sns, stack.topicArn, { protocol: 'sqs', endpoint: queueArn, attributes: { RawMessageDelivery: 'true' } });
    options.onReady?.(queueName);
    while (!options.signal.aborted) {
      let messages;
      try {
        messages = await receiveMessages(sqs, queueUrl, { waitSeconds: options.waitSeconds ?? 20, abortSignal: options.signal });
      } catch (error) {
        // Aborting ends the long poll with an AbortError: the normal way out.
        if (aborted(options.signal)) break;
        throw error;
      }
      for (const message of messages) {
        await options.onEvent(parseEvent(message.Body ?? ''));
        received += 1;
        if (message.ReceiptHandle) await deleteMessage(sqs, queueUrl, message.ReceiptHandle);
      }
    }
  } finally {
    // Cleanup must run even though the signal already fired: these calls get no signal.
    if (subscriptionArn) await unsubscribe(sns, subscriptionArn);
    await deleteQueue(sqs, queueUrl);
  }
  return { exitCode: ExitCode.Ok, received, queueName };
}

/** Read through a call, so the compiler does not narrow it to the value the loop condition saw. */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** One line for a person: time, type, image, and what came of it. */
export function eventLine(event: StackEvent): string {
  if (event.kind === 'other') return event.body;
  const n = event.notification;
  const what =
    n.type === 'image.processed'
      ? n.outputs.map((o) => `${o.size} ${o.width}x${o.height}`).join(', ')
      : n.type === 'image.failed'
        ? `${n.errorCode ?? 'FAILED'}: ${n.errorMessage ?? ''}`
        : 'outputs removed';
  return `${n.time}  ${n.type.padEnd(15)}  ${n.imageId}  ${what}`;
}
