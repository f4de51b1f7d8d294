import { awsRecordPorts, createFunctionClients, snsNotificationPort, type NotificationPort } from './aws-ports.js';
import { isRemoval, parseInvocation, type S3ObjectRecord } from './core/event.js';
import { notificationFor } from './core/notification.js';
import { processRecord, type RecordPorts, type RecordResult } from './core/process-record.js';
import { removeRecord } from './core/remove-record.js';
import { loadFunctionSettings, type FunctionSettings } from './core/settings.js';
import { isWorkflowInvocation, resizeForWorkflow, type WorkflowInvocation, type WorkflowResizeResult } from './core/workflow.js';
import { marshall } from '@aws-sdk/util-dynamodb';

/** What an invocation returns (visible to synchronous callers such as `backfill`). */
export interface HandlerSummary {
  records: number;
  succeeded: number;
  failed: number;
  skipped: number;
  deleted: number;
  ignored: string[];
  results: RecordResult[];
  /**
   * SQS invocations only (the event source mapping needs ReportBatchItemFailures): the messages to deliver
   * again. The others are deleted from the queue.
   */
  batchItemFailures?: { itemIdentifier: string }[];
  /** The Node.js version the function ran on (process.version): tests assert the runtime's major. */
  node: string;
}

export interface LambdaContextLike {
  awsRequestId?: string;
}

export interface HandlerOptions {
  /** The environment to read settings and endpoints from; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the AWS ports (tests). */
  ports?: RecordPorts;
  /** Replaces the notification port (tests); by default SNS when NOTIFY_TOPIC_ARN is set. */
  notifications?: NotificationPort;
}

/** The direct path's summary, or the Resize state's result when the state machine invokes the function. */
interface Handler {
  (event: WorkflowInvocation, context?: LambdaContextLike): Promise<WorkflowResizeResult>;
  (event: unknown, context?: LambdaContextLike): Promise<HandlerSummary>;
}

function log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
  // One JSON object per line: CloudWatch Logs Insights can filter on every field.
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

interface Runtime {
  settings: FunctionSettings;
  ports: RecordPorts;
  notifications: NotificationPort | undefined;
}

/**
 * Builds a handler with its own settings and clients, created on the first invocation and then kept for the
 * container's life. Settings are validated then, once; a bad variable fails every invocation with its name.
 */
export function createHandler(options: HandlerOptions = {}): Handler {
  let runtime: Runtime | undefined;
  const init = (): Runtime => {
    if (runtime) return runtime;
    const env = options.env ?? process.env;
    let settings: FunctionSettings;
    try {
      settings = loadFunctionSettings(env);
    } catch (error) {
      log('error', 'invalid function settings', { error: (error as Error).message });
      throw error;
    }
    let clients: ReturnType<typeof createFunctionClients> | undefined;
    const aws = (): ReturnType<typeof createFunctionClients> => (clients ??= createFunctionClients(env));
    const topic = settings.notifyTopicArn;
    const notifications = options.notifications ?? (topic === undefined ? undefined : snsNotificationPort(aws().sns, topic));
    runtime = { settings, ports: options.ports ?? awsRecordPorts(aws(), settings.table), notifications };
    log('info', 'cold start', { node: process.version });
    return runtime;
  };

  /** One record, start to end: processed (or removed), then its outcome published. Throws what Lambda should retry. */
  const handleRecord = async ({ settings, ports, notifications }: Runtime, record: S3ObjectRecord): Promise<RecordResult> => {
    const result = isRemoval(record) ? await removeRecord(record, settings, ports) : await processRecord(record, settings, ports);
    // A skipped record changed nothing, so there is nothing to tell. A message that cannot be published throws:
    // the retry rewrites the same outputs and item (idempotent) and publishes again, rather than drop it.
    if (notifications && result.item && result.status !== 'SKIPPED') await notifications.publish(notificationFor(result.item));
    return result;
  };

  const handle = async (event: unknown, context?: LambdaContextLike): Promise<HandlerSummary | WorkflowResizeResult> => {
    const current = init();
    const requestId = context?.awsRequestId;
    if (isWorkflowInvocation(event)) {
      // Workflow mode: errors propagate so the Resize state's Retry (transient) or Catch (dead-letter) runs.
      const result = await resizeForWorkflow(event.event, current.settings, current.ports, (value) =>
        marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: false }),
      );
      const { item: _item, write: _write, notification: _notification, ...logged } = result;
      log(result.outcome === 'FAILED' ? 'warn' : 'info', `workflow resize ${result.outcome.toLowerCase()}`, { requestId, ...logged });
      return result;
    }
    const invocation = parseInvocation(event);
    const summary: HandlerSummary = {
      records: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      deleted: 0,
      ignored: [],
      results: [],
      node: process.version,
    };
    const transient: unknown[] = [];
    const failedMessages: { itemIdentifier: string }[] = [];
    for (const part of invocation.parts) {
      for (const reason of part.ignored) log('info', 'ignored', { requestId, reason });
      summary.ignored.push(...part.ignored);
      summary.records += part.records.length;
      let partFailed = false;
      // One record at a time: peak memory stays that of one image (S3 sends one record per event anyway), and a
      // retry after a transient error redoes the event's records idempotently.
      for (const record of part.records) {
        try {
          const result = await handleRecord(current, record);
          summary.results.push(result);
          if (result.status === 'SUCCEEDED') summary.succeeded += 1;
          else if (result.status === 'FAILED') summary.failed += 1;
          else if (result.status === 'DELETED') summary.deleted += 1;
          else summary.skipped += 1;
          const { item: _item, ...logged } = result;
          log(result.status === 'FAILED' ? 'warn' : 'info', `record ${result.status.toLowerCase()}`, { requestId, ...logged });
        } catch (error) {
          transient.push(error);
          partFailed = true;
          log('error', 'record error; its event will be delivered again', {
            requestId,
            ...(part.messageId === undefined ? {} : { messageId: part.messageId }),
            bucket: record.bucket,
            key: record.key,
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          });
        }
      }
      if (partFailed && part.messageId !== undefined) failedMessages.push({ itemIdentifier: part.messageId });
    }
    const counts = { records: summary.records, succeeded: summary.succeeded, failed: summary.failed, skipped: summary.skipped, deleted: summary.deleted };
    if (invocation.source === 'sqs') {
      // Only the failed messages come back; the others are done and leave the queue.
      summary.batchItemFailures = failedMessages;
      log(failedMessages.length > 0 ? 'warn' : 'info', 'done', { requestId, ...counts, failedMessages: failedMessages.length });
      return summary;
    }
    if (transient.length === 1) throw transient[0];
    if (transient.length > 1) throw new AggregateError(transient, `${transient.length} records failed with errors Lambda should retry`);
    log('info', 'done', { requestId, ...counts });
    return summary;
  };
  // The overloads only narrow the result type by the event's shape, which handle() checks at run time.
  return handle as Handler;
}

/** The function's entry point (index.handler once bundled). */
export const handler: Handler = createHandler();
