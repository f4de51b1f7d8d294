import { setTimeout as delay } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
  type Message,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { awsErrorName } from '../errors.js';

function isMissingQueue(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue' || name === 'NonExistentQueue';
}

/** The queue's URL, or undefined when there is no such queue. */
export async function getQueueUrl(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (isMissingQueue(error)) return undefined;
    throw error;
  }
}

/** Every attribute of the queue (depth, retention, encryption, policy, ARN); undefined when it is gone. */
export async function getQueueAttributes(sqs: SQSClient, queueUrl: string): Promise<Partial<Record<QueueAttributeName, string>> | undefined> {
  try {
    return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
  } catch (error) {
    if (isMissingQueue(error)) return undefined;
    throw error;
  }
}

export async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>, tags: Record<string, string>): Promise<string> {
  const response = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags }));
  if (!response.QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  return response.QueueUrl;
}

export async function setQueueAttributes(sqs: SQSClient, queueUrl: string, attributes: Record<string, string>): Promise<void> {
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes }));
}

/** Deletes the queue; false when it was already gone. */
export async function deleteQueue(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  try {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    return true;
  } catch (error) {
    if (isMissingQueue(error)) return false;
    throw error;
  }
}

export interface ReceiveOptions {
  maxMessages?: number;
  waitSeconds?: number;
  /** How long received messages stay hidden from other readers; unprocessed ones come back after it. */
  visibilitySeconds?: number;
  abortSignal?: AbortSignal | undefined;
}

/** One long poll; aborting the signal ends it early with no messages. */
export async function receiveMessages(sqs: SQSClient, queueUrl: string, options: ReceiveOptions = {}): Promise<Message[]> {
  const response = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.maxMessages ?? 10,
      WaitTimeSeconds: options.waitSeconds ?? 20,
      ...(options.visibilitySeconds === undefined ? {} : { VisibilityTimeout: options.visibilitySeconds }),
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      // EventBridge's dead letters say why in message attributes (ERROR_CODE, RETRY_ATTEMPTS, …).
      MessageAttributeNames: ['All'],
    }),
    options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal },
  );
  return response.Messages ?? [];
}

export async function deleteMessage(sqs: SQSClient, queueUrl: string, receiptHandle: string): Promise<void> {
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
}

/** Makes a received message visible again at once (a listing must not hide messages from redrive). */
export async function releaseMessage(sqs: SQSClient, queueUrl: string, receiptHandle: string): Promise<void> {
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }));
}

/** One message of a SendMessageBatch call: its id is unique within the call. */
export interface BatchEntry {
  id: string;
  body: string;
}

/** What SendMessageBatch did with each entry: sent, or failed (senderFault: retrying the same entry fails again). */
interface BatchOutcome {
  sent: string[];
  failed: { id: string; senderFault: boolean; message: string }[];
}

/** Up to ten messages in one call (SQS's limit); a call can succeed for some entries and fail for others. */
async function sendMessageBatch(sqs: SQSClient, queueUrl: string, entries: readonly BatchEntry[]): Promise<BatchOutcome> {
  const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.map((e) => ({ Id: e.id, MessageBody: e.body })) }));
  return {
    sent: (response.Successful ?? []).map((s) => s.Id ?? ''),
    failed: (response.Failed ?? []).map((f) => ({ id: f.Id ?? '', senderFault: f.SenderFault === true, message: `${f.Code ?? 'Failed'}: ${f.Message ?? ''}` })),
  };
}

export interface BatchRetryOptions {
  /** Tries of an entry SQS failed without blaming the sender (throttling, an internal error); default 5. */
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called after each call with the entries SQS accepted in it (so a caller can record them at once). */
  onSent?: (ids: string[]) => void;
}

/**
 * Sends up to ten entries, retrying those SQS failed without blaming the sender (with backoff) until they are
 * accepted or out of attempts. Returns the entries never accepted: sender faults at once, others after the last try.
 */
export async function sendMessageBatchWithRetries(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly BatchEntry[],
  options: BatchRetryOptions = {},
): Promise<{ id: string; message: string }[]> {
  const attempts = options.attempts ?? 5;
  const sleep = options.sleep ?? delay;
  const refused: { id: string; message: string }[] = [];
  let pending = [...entries];
  for (let attempt = 1; pending.length > 0; attempt++) {
    const outcome = await sendMessageBatch(sqs, queueUrl, pending);
    options.onSent?.(outcome.sent);
    const retry = new Set<string>();
    for (const failure of outcome.failed) {
      if (failure.senderFault || attempt >= attempts) refused.push({ id: failure.id, message: failure.message });
      else retry.add(failure.id);
    }
    pending = pending.filter((entry) => retry.has(entry.id));
    if (pending.length > 0) await sleep(Math.min(100 * 2 ** attempt, 2_000));
  }
  return refused;
}
