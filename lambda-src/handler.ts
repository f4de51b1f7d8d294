import { awsRecordPorts, createFunctionClients } from './aws-ports.js';
import { parseS3Event } from './core/event.js';
import { processRecord, type RecordPorts, type RecordResult } from './core/process-record.js';
import { loadFunctionSettings, type FunctionSettings } from './core/settings.js';

/** What an invocation returns (visible to synchronous callers such as `backfill`). */
export interface HandlerSummary {
  records: number;
  succeeded: number;
  failed: number;
  skipped: number;
  ignored: string[];
  results: RecordResult[];
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
}

type Handler = (event: unknown, context?: LambdaContextLike) => Promise<HandlerSummary>;

function log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
  // One JSON object per line: CloudWatch Logs Insights can filter on every field.
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/**
 * Builds a handler with its own settings and clients, created on the first invocation and then kept for the
 * container's life. Settings are validated then, once; a bad variable fails every invocation with its name.
 */
export function createHandler(options: HandlerOptions = {}): Handler {
  let runtime: { settings: FunctionSettings; ports: RecordPorts } | undefined;
  const init = (): { settings: FunctionSettings; ports: RecordPorts } => {
    if (runtime) return runtime;
    const env = options.env ?? process.env;
    let settings: FunctionSettings;
    try {
      settings = loadFunctionSettings(env);
    } catch (error) {
      log('error', 'invalid function settings', { error: (error as Error).message });
      throw error;
    }
    runtime = { settings, ports: options.ports ?? awsRecordPorts(createFunctionClients(env), settings.table) };
    log('info', 'cold start', { node: process.version });
    return runtime;
  };

  return async (event: unknown, context?: LambdaContextLike): Promise<HandlerSummary> => {
    const { settings, ports } = init();
    const requestId = context?.awsRequestId;
    const { records, ignored } = parseS3Event(event);
    for (const reason of ignored) log('info', 'ignored', { requestId, reason });
    const summary: HandlerSummary = { records: records.length, succeeded: 0, failed: 0, skipped: 0, ignored, results: [], node: process.version };
    const transient: unknown[] = [];
    // One record at a time: peak memory stays that of one image (S3 sends one record per event anyway), and a
    // retry after a transient error redoes the event's records idempotently.
    for (const record of records) {
      try {
        const result = await processRecord(record, settings, ports);
        summary.results.push(result);
        if (result.status === 'SUCCEEDED') summary.succeeded += 1;
        else if (result.status === 'FAILED') summary.failed += 1;
        else summary.skipped += 1;
        log(result.status === 'FAILED' ? 'warn' : 'info', `record ${result.status.toLowerCase()}`, { requestId, ...result });
      } catch (error) {
        transient.push(error);
        log('error', 'record error; the invocation will fail so that Lambda retries it', {
          requestId,
          bucket: record.bucket,
          key: record.key,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
      }
    }
    if (transient.length === 1) throw transient[0];
    if (transient.length > 1) throw new AggregateError(transient, `${transient.length} records failed with errors Lambda should retry`);
    log('info', 'done', { requestId, records: summary.records, succeeded: summary.succeeded, failed: summary.failed, skipped: summary.skipped });
    return summary;
  };
}

/** The function's entry point (index.handler once bundled). */
export const handler: Handler = createHandler();
