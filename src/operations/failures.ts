import type { Message } from '@aws-sdk/client-sqs';
import { deleteMessage, getQueueUrl, receiveMessages, releaseMessage } from '../aws/sqs.js';
import type { AwsClients } from '../aws/clients.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { invokeSynchronously } from '../operations/invoke-function.js';
import type { StackModel } from '../provision/stack.js';
import { loadStack } from './stack-context.js';

/**
 * What Lambda sends to an on-failure destination once an asynchronous event ran out of retries or age
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html): the original event
 * (`requestPayload`), and what the last attempt returned.
 */
export interface FailureRecord {
  version?: string;
  timestamp?: string;
  requestContext?: { requestId?: string; functionArn?: string; condition?: string; approximateInvokeCount?: number };
  requestPayload?: unknown;
  responseContext?: { statusCode?: number; functionError?: string };
  responsePayload?: { errorType?: string; errorMessage?: string } | null;
  /** Workflow mode's DeadLetter state (condition WorkflowFailed): the execution's input and the caught error. */
  input?: unknown;
  error?: { Error?: string; Cause?: string } | null;
}

/** One failed event, as `failures list` shows it. */
export interface FailedEvent {
  messageId: string;
  /** The S3 keys the event was about (one for events S3 sends). */
  keys: string[];
  error: string;
  attempts: number | undefined;
  /** When Lambda gave up on the event (the destination record's timestamp). */
  failedAt: string | undefined;
}

export function parseFailureRecord(body: string): FailureRecord | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** S3 sends keys URL-encoded with "+" for spaces; EventBridge's "Object Created" events (workflow mode) carry the key as uploaded. */
function s3Keys(payload: unknown): string[] {
  const eventBridgeKey = (payload as { detail?: { object?: { key?: unknown } } } | undefined)?.detail?.object?.key;
  if (typeof eventBridgeKey === 'string') return [eventBridgeKey];
  const records = (payload as { Records?: { s3?: { bucket?: { name?: string }; object?: { key?: string } } }[] } | undefined)?.Records ?? [];
  return records
    .map((r) => r.s3?.object?.key)
    .filter((key): key is string => typeof key === 'string')
    .map((key) => {
      try {
        return decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        return key;
      }
    });
}

/** When the queue got the message (SQS's SentTimestamp, epoch milliseconds), as ISO 8601. */
function sentAt(message: Message): string | undefined {
  const millis = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(millis) && millis > 0 ? new Date(millis).toISOString() : undefined;
}

/**
 * EventBridge's dead letter (workflow mode: it could not start an execution): the body is the original "Object
 * Created" event, the reason is in message attributes
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 */
function eventBridgeDeadLetter(message: Message): { error: string; attempts: number | undefined } | undefined {
  const attributes = message.MessageAttributes;
  const code = attributes?.ERROR_CODE?.StringValue;
  if (code === undefined) return undefined;
  const reason = attributes?.ERROR_MESSAGE?.StringValue;
  const condition = attributes?.EXHAUSTED_RETRY_CONDITION?.StringValue;
  const retries = Number(attributes?.RETRY_ATTEMPTS?.StringValue);
  return {
    error: `EventBridge could not start the workflow: ${[code, reason].filter(Boolean).join(': ')}${condition ? ` (${condition})` : ''}`,
    attempts: Number.isFinite(retries) ? retries + 1 : undefined,
  };
}

export function describeFailure(message: Message): FailedEvent {
  const messageId = message.MessageId ?? '';
  const record = parseFailureRecord(message.Body ?? '');
  const deadLetter = eventBridgeDeadLetter(message);
  if (deadLetter) return { messageId, keys: s3Keys(record), ...deadLetter, failedAt: sentAt(message) };
  if (!record) return { messageId, keys: [], error: 'not a Lambda failure record', attempts: undefined, failedAt: sentAt(message) };
  const response = record.responsePayload ?? undefined;
  const caught = record.error ?? undefined;
  const error = response?.errorType || response?.errorMessage
    ? [response.errorType, response.errorMessage].filter(Boolean).join(': ')
    : caught?.Error || caught?.Cause
      ? [caught.Error, caught.Cause].filter(Boolean).join(': ')
      : record.requestContext?.condition ?? 'unknown';
  // The record's timestamp is when Lambda gave up; records without one (emulators) fall back to when it was queued.
  return { messageId, keys: s3Keys(record.requestPayload ?? record.input), error, attempts: record.requestContext?.approximateInvokeCount, failedAt: record.timestamp ?? sentAt(message) };
}

async function queueUrlOf(clients: AwsClients, stack: StackModel): Promise<string> {
  const url = await getQueueUrl(clients.sqs, stack.failedEventsQueueName);
  if (url === undefined) {
    throw new CliError('FAILED_EVENTS_QUEUE_MISSING', `The failed-events queue ${stack.failedEventsQueueName} does not exist.`, {
      suggestion: 'Run `img-resizer init` to create it.',
    });
  }
  return url;
}

/**
 * Reads every message once. Each stays hidden while the listing runs (so no message is read twice) and is
 * made visible again right after, so listing takes nothing away from a redrive.
 */
async function readAll(clients: AwsClients, queueUrl: string, visibilitySeconds: number, signal?: AbortSignal): Promise<Message[]> {
  const messages: Message[] = [];
  const seen = new Set<string>();
  for (;;) {
    if (signal?.aborted) break;
    const batch = await receiveMessages(clients.sqs, queueUrl, { waitSeconds: 1, visibilitySeconds, abortSignal: signal });
    const fresh = batch.filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.MessageId ?? '');
      messages.push(message);
    }
  }
  return messages;
}

export interface FailuresListResult {
  exitCode: ExitCode;
  failures: FailedEvent[];
}

export async function runFailuresList(context: AppContext): Promise<FailuresListResult> {
  const { stack, clients } = await loadStack(context);
  const queueUrl = await queueUrlOf(clients, stack);
  const messages = await readAll(clients, queueUrl, 60);
  await Promise.all(messages.map((m) => (m.ReceiptHandle ? releaseMessage(clients.sqs, queueUrl, m.ReceiptHandle) : Promise.resolve())));
  return { exitCode: ExitCode.Ok, failures: messages.map(describeFailure) };
}

export interface RedriveOutcome extends FailedEvent {
  outcome: 'redriven' | 'failed-again' | 'planned' | 'skipped';
  detail?: string;
}

export interface RedriveOptions {
  dryRun?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onOutcome?: ((outcome: RedriveOutcome) => void) | undefined;
}

export interface FailuresRedriveResult {
  exitCode: ExitCode;
  outcomes: RedriveOutcome[];
  interrupted: boolean;
}

/**
 * Invokes the function synchronously with each failed event's original payload and deletes the message only
 * once that invocation succeeded. A message is hidden (the function's timeout and a margin) while it is worked
 * on: if redrive is killed, the unprocessed ones reappear in the queue on their own. Events that fail again
 * stay in the queue, visible again at once.
 */
export async function runFailuresRedrive(context: AppContext, options: RedriveOptions = {}): Promise<FailuresRedriveResult> {
  const { stack, clients } = await loadStack(context);
  const queueUrl = await queueUrlOf(clients, stack);
  const visibilitySeconds = stack.settings.timeout + 60;
  const messages = await readAll(clients, queueUrl, visibilitySeconds, options.signal);
  const outcomes: RedriveOutcome[] = [];
  const report = (outcome: RedriveOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };
  const release = async (message: Message) => {
    if (message.ReceiptHandle) await releaseMessage(clients.sqs, queueUrl, message.ReceiptHandle);
  };
  let interrupted = false;
  for (const message of messages) {
    const record = parseFailureRecord(message.Body ?? '');
    const failure = describeFailure(message);
    if (options.dryRun || options.signal?.aborted) {
      interrupted ||= Boolean(options.signal?.aborted);
      await release(message);
      if (options.dryRun) report({ ...failure, outcome: 'planned' });
      continue;
    }
    if (record?.requestPayload === undefined) {
      await release(message);
      // A workflow dead letter is an execution's input: invoking the function with it would not record the item.
      const detail =
        record?.requestContext?.condition === 'WorkflowFailed'
          ? 'a failed workflow execution: upload the image again to rerun it'
          : eventBridgeDeadLetter(message)
            ? 'an upload EventBridge could not deliver: upload the image again to run the workflow'
            : 'no original event in the message';
      report({ ...failure, outcome: 'skipped', detail });
      continue;
    }
    const result = await invokeSynchronously(clients.lambda, stack.settings.functionName, record.requestPayload);
    if (result.functionError === undefined) {
      if (message.ReceiptHandle) await deleteMessage(clients.sqs, queueUrl, message.ReceiptHandle);
      report({ ...failure, outcome: 'redriven' });
    } else {
      await release(message);
      report({ ...failure, outcome: 'failed-again', detail: result.errorMessage ?? result.functionError });
    }
  }
  const failedAgain = outcomes.some((o) => o.outcome === 'failed-again' || o.outcome === 'skipped');
  return { exitCode: interrupted ? ExitCode.Interrupted : failedAgain ? ExitCode.Failed : ExitCode.Ok, outcomes, interrupted };
}
