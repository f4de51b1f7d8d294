import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { SYNTHESIZED_EVENT_PRINCIPAL } from '../../lambda-src/core/event.js';
import type { AwsClients } from '../aws/clients.js';
import { getFunction, invokeWithLogTail, updateFunctionMemory, waitForFunctionUpdated } from '../aws/lambda.js';
import { getItem, scanItemPages } from '../aws/metadata-table.js';
import { headObject } from '../aws/objects.js';
import { writeSettingsFile } from '../config/settings.js';
import { DEFAULT_TUNE_INVOCATIONS, DEFAULT_TUNE_MEMORY_SIZES, LAMBDA_MEMORY_RANGE_MB, type TuneChoice } from '../constants.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode, UsageError, errorMessage } from '../errors.js';
import { dollarsPerMillion } from '../pricing.js';
import type { StackModel } from '../provision/stack.js';
import { parseInvocationReport } from './report-line.js';
import { synthesizeS3Event, type S3Event } from './s3-event.js';
import { loadStack } from './stack-context.js';


/** Recent SUCCEEDED items taken as samples when no --sample is given. */
const DEFAULT_SAMPLE_COUNT = 3;
/** At most this many items are read to find the recent ones, so that tuning never scans a large table whole. */
const SAMPLE_SCAN_LIMIT = 1_000;
/** How the events tune sends show up in the function's logs. */
const TUNE_PRINCIPAL = 'img-resizer-tune';

export interface TuneOptions {
  memorySizes?: readonly number[] | undefined;
  /** Source keys to invoke with; else a few recent SUCCEEDED items' sources. */
  samples?: readonly string[] | undefined;
  invocations?: number | undefined;
  /** Leave the function at this recommendation instead of its original memory (and record it in the settings file). */
  apply?: TuneChoice | undefined;
  /** Aborting stops invoking; the original configuration is restored before the operation returns. */
  signal?: AbortSignal | undefined;
}

export type TuneProgress =
  | { kind: 'samples'; keys: readonly string[] }
  | { kind: 'memory'; memoryMb: number }
  | { kind: 'invoked'; memoryMb: number; invocation: number; of: number; durationMs: number }
  | { kind: 'restoring'; memoryMb: number };

/** How a row's durations were measured. */
export type MeasuredBy = 'report' | 'client';

export interface TuneRow {
  memoryMb: number;
  /** Measured invocations (the warm-up excluded). */
  invocations: number;
  medianDurationMs: number;
  /** Mean billed duration: what the bill adds up. */
  billedMs: number;
  /** Unknown when measured client-side. */
  maxMemoryUsedMb: number | undefined;
  dollarsPerMillion: number;
  measuredBy: MeasuredBy;
  /** Set when an invocation failed at this size (e.g. out of memory); the row then takes no part in the choice. */
  error?: string;
  cheapest: boolean;
  fastest: boolean;
}

export interface TuneResult {
  exitCode: ExitCode;
  functionName: string;
  architecture: 'x86_64' | 'arm64';
  /** The target runs functions on its own host (local stack, other endpoint): durations are not Lambda's. */
  emulated: boolean;
  samples: string[];
  invocationsPerSize: number;
  originalMemoryMb: number;
  rows: TuneRow[];
  cheapestMemoryMb: number | undefined;
  fastestMemoryMb: number | undefined;
  /** Set when --apply left the function at a recommendation. */
  applied: { choice: TuneChoice; memoryMb: number } | undefined;
  /** The function's memory when tune finished (read back). */
  finalMemoryMb: number | undefined;
  interrupted: boolean;
}

interface Sample {
  key: string;
  event: S3Event;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Checks and normalises the memory sizes: whole MB in Lambda's range, each once, ascending. */
export function validateMemorySizes(sizes: readonly number[]): number[] {
  if (sizes.length === 0) throw new UsageError('--memory-sizes needs at least one size.');
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < LAMBDA_MEMORY_RANGE_MB.min || size > LAMBDA_MEMORY_RANGE_MB.max) {
      throw new UsageError(`--memory-sizes: ${size} is not a memory size Lambda accepts.`, `Use whole MB from ${LAMBDA_MEMORY_RANGE_MB.min} to ${LAMBDA_MEMORY_RANGE_MB.max}, e.g. 512,1024,1769,3008.`);
    }
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** Marks the cheapest row (ties: the faster) and the fastest (ties: the cheaper), among rows without errors. */
export function markChoices(rows: TuneRow[]): { cheapest: TuneRow | undefined; fastest: TuneRow | undefined } {
  const valid = rows.filter((row) => row.error === undefined && row.invocations > 0);
  const cheapest = [...valid].sort((a, b) => a.dollarsPerMillion - b.dollarsPerMillion || a.medianDurationMs - b.medianDurationMs)[0];
  const fastest = [...valid].sort((a, b) => a.medianDurationMs - b.medianDurationMs || a.dollarsPerMillion - b.dollarsPerMillion)[0];
  for (const row of rows) {
    row.cheapest = row === cheapest;
    row.fastest = row === fastest;
  }
  return { cheapest, fastest };
}

/** The source keys of the most recent SUCCEEDED items of the stack's source bucket. */
async function recentSampleKeys(clients: AwsClients, stack: StackModel): Promise<string[]> {
  const candidates: { key: string; processedAt: string }[] = [];
  let seen = 0;
  for await (const page of scanItemPages(clients.documents, stack.settings.table, { status: 'SUCCEEDED', attributes: ['SourceBucket', 'OriginalFile', 'ProcessedAt'] })) {
    for (const item of page) {
      if (item.SourceBucket === stack.settings.sourceBucket && typeof item.OriginalFile === 'string') candidates.push({ key: item.OriginalFile, processedAt: item.ProcessedAt });
    }
    seen += page.length;
    if (seen >= SAMPLE_SCAN_LIMIT) break;
  }
  return candidates
    .sort((a, b) => b.processedAt.localeCompare(a.processedAt))
    .slice(0, DEFAULT_SAMPLE_COUNT)
    .map((candidate) => candidate.key);
}

/**
 * The event tune invokes with for one source object. The function must not change anything for real, so the
 * event is one the function has already handled:
 * - the item records the sequencer of the S3 event that made it: the same sequencer again is a duplicate
 *   delivery, which the item's conditional write lets through to rewrite the same item (same outputs, byte for
 *   byte; only ProcessedAt and DurationMs change), as Lambda's own retries do;
 * - else the backfill's synthesized form: ordered by the object's Last-Modified and ETag, the same object
 *   rewrites its own item the same way.
 */
async function sampleEvent(clients: AwsClients, stack: StackModel, key: string, target: { region: string; partition: string }): Promise<Sample> {
  const bucket = stack.settings.sourceBucket;
  const object = await headObject(clients.s3, bucket, key);
  if (object === undefined) {
    throw new CliError('SAMPLE_NOT_FOUND', `s3://${bucket}/${key} does not exist.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Pass --sample with the key of an image in the source bucket (`img-resizer metadata list` shows them).',
    });
  }
  const item = await getItem(clients.documents, stack.settings.table, imageIdFor(bucket, key));
  const sequencer = item?.Sequencer;
  const principal = sequencer === undefined ? SYNTHESIZED_EVENT_PRINCIPAL : TUNE_PRINCIPAL;
  const event = synthesizeS3Event(
    { key, bytes: object.bytes, eTag: object.eTag },
    { bucket, ...target, principalId: principal, configurationId: TUNE_PRINCIPAL, ...(sequencer === undefined ? {} : { sequencer }) },
  );
  return { key, event };
}

interface Measurement {
  durationMs: number;
  billedMs: number;
  maxMemoryUsedMb: number | undefined;
  measuredBy: MeasuredBy;
}

/** One invocation, timed by the REPORT line of its log tail, else by the client's round trip. */
async function measureInvocation(clients: AwsClients, functionName: string, sample: Sample): Promise<Measurement | { error: string }> {
  const started = performance.now();
  const invocation = await invokeWithLogTail(clients.lambda, functionName, sample.event);
  const clientMs = performance.now() - started;
  if (invocation.functionError !== undefined) {
    return { error: `${invocation.functionError} on ${sample.key}: ${invocation.payload.slice(0, 300)}` };
  }
  const report = parseInvocationReport(invocation.logTail);
  if (report) return { durationMs: report.durationMs, billedMs: report.billedDurationMs, maxMemoryUsedMb: report.maxMemoryUsedMb, measuredBy: 'report' };
  // As Lambda bills: rounded up to the millisecond.
  return { durationMs: clientMs, billedMs: Math.max(1, Math.ceil(clientMs)), maxMemoryUsedMb: undefined, measuredBy: 'client' };
}

function rowOf(memoryMb: number, measurements: readonly Measurement[], architecture: 'x86_64' | 'arm64', error?: string): TuneRow {
  const billedMs = measurements.length === 0 ? 0 : measurements.reduce((total, m) => total + m.billedMs, 0) / measurements.length;
  const memoryUsed = measurements.map((m) => m.maxMemoryUsedMb).filter((value): value is number => value !== undefined);
  return {
    memoryMb,
    invocations: measurements.length,
    medianDurationMs: measurements.length === 0 ? 0 : median(measurements.map((m) => m.durationMs)),
    billedMs,
    maxMemoryUsedMb: memoryUsed.length === 0 ? undefined : Math.max(...memoryUsed),
    dollarsPerMillion: dollarsPerMillion(memoryMb, billedMs, architecture),
    measuredBy: measurements.length > 0 && measurements.every((m) => m.measuredBy === 'report') ? 'report' : 'client',
    ...(error === undefined ? {} : { error }),
    cheapest: false,
    fastest: false,
  };
}

/**
 * Power tuning, as AWS Lambda Power Tuning does it: for each memory size, set the function's memory, wait until
 * the update is Successful, invoke once to warm up (not counted), then N times with real sample objects, reading
 * Duration, Billed Duration and Max Memory Used from the REPORT line of each log tail. The original memory is
 * restored at the end, also when interrupted (the signal) or when something fails; --apply leaves the
 * recommendation instead and records it in the settings file, so `init` and `status` agree with it.
 */
export async function runTune(context: AppContext, options: TuneOptions = {}, onProgress: (progress: TuneProgress) => void = () => undefined): Promise<TuneResult> {
  const memorySizes = validateMemorySizes(options.memorySizes ?? DEFAULT_TUNE_MEMORY_SIZES);
  const invocationsPerSize = options.invocations ?? DEFAULT_TUNE_INVOCATIONS;
  const { stack, clients } = await loadStack(context);
  const { functionName } = stack.settings;

  const original = await getFunction(clients.lambda, functionName);
  if (original === undefined) {
    throw new CliError('FUNCTION_MISSING', `The function ${functionName} does not exist.`, { suggestion: 'Run `img-resizer init` to create it.' });
  }
  const architecture = original.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64';
  const originalMemoryMb = original.MemorySize ?? stack.settings.memory;

  const keys = options.samples && options.samples.length > 0 ? [...options.samples] : await recentSampleKeys(clients, stack);
  if (keys.length === 0) {
    throw new CliError('NO_SAMPLES', `The table ${stack.settings.table} has no SUCCEEDED item to take a sample from.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Upload a few typical images first (`img-resizer upload photos/ --wait`), or name them with --sample KEY.',
    });
  }
  const target = { region: await clients.lambda.config.region(), partition: (await context.identity()).partition };
  const samples: Sample[] = [];
  for (const key of keys) samples.push(await sampleEvent(clients, stack, key, target));
  onProgress({ kind: 'samples', keys });

  const rows: TuneRow[] = [];
  const aborted = (): boolean => options.signal?.aborted ?? false;
  // The memory the function has now, as far as tune changed it; undefined while untouched.
  let changedTo: number | undefined;
  // Whatever stops the runs (an SDK error, the interruption), the memory is put back before it is reported.
  let failure: { error: unknown } | undefined;
  try {
    // A previous update still in progress would make the first UpdateFunctionConfiguration fail.
    await waitForFunctionUpdated(clients.lambda, functionName);
    for (const memoryMb of memorySizes) {
      if (aborted()) break;
      onProgress({ kind: 'memory', memoryMb });
      if (memoryMb !== (changedTo ?? originalMemoryMb)) {
        changedTo = memoryMb;
        await updateFunctionMemory(clients.lambda, functionName, memoryMb);
        await waitForFunctionUpdated(clients.lambda, functionName);
      }
      const measurements: Measurement[] = [];
      let error: string | undefined;
      // Index -1 is the warm-up: a cold start after the update, not counted.
      for (let index = -1; index < invocationsPerSize && !aborted(); index++) {
        const sample = samples[Math.max(0, index) % samples.length];
        if (sample === undefined) break;
        const outcome = await measureInvocation(clients, functionName, sample);
        if ('error' in outcome) {
          error = outcome.error;
          break;
        }
        if (index < 0) continue;
        measurements.push(outcome);
        onProgress({ kind: 'invoked', memoryMb, invocation: index + 1, of: invocationsPerSize, durationMs: outcome.durationMs });
      }
      // An interrupted size is left out rather than shown with fewer invocations than asked.
      if (aborted() && error === undefined) break;
      rows.push(rowOf(memoryMb, measurements, architecture, error));
    }
  } catch (error) {
    failure = { error };
  }

  const { cheapest, fastest } = markChoices(rows);
  const recommended = options.apply === 'fastest' ? fastest : cheapest;
  const applying = options.apply !== undefined && failure === undefined && !aborted() && recommended !== undefined;
  const wanted = applying ? recommended.memoryMb : originalMemoryMb;
  if ((changedTo ?? originalMemoryMb) !== wanted) {
    onProgress({ kind: 'restoring', memoryMb: wanted });
    try {
      await waitForFunctionUpdated(clients.lambda, functionName);
      await updateFunctionMemory(clients.lambda, functionName, wanted);
      await waitForFunctionUpdated(clients.lambda, functionName);
    } catch (error) {
      throw new CliError('TUNE_RESTORE_FAILED', `Could not set ${functionName} back to ${wanted} MB: ${errorMessage(error)}`, {
        suggestion: `Run: aws lambda update-function-configuration --function-name ${functionName} --memory-size ${wanted}`,
        cause: failure?.error ?? error,
      });
    }
  }
  if (failure !== undefined) throw failure.error;
  let applied: TuneResult['applied'];
  if (applying) {
    applied = { choice: options.apply ?? 'cheapest', memoryMb: recommended.memoryMb };
    if (stack.settings.memory !== recommended.memoryMb) await writeSettingsFile(context.settingsFile, { ...stack.settings, memory: recommended.memoryMb });
  }
  const finalMemoryMb = (await getFunction(clients.lambda, functionName))?.MemorySize;

  const interrupted = aborted();
  const failed = rows.some((row) => row.error !== undefined);
  return {
    exitCode: interrupted ? ExitCode.Interrupted : failed ? ExitCode.Failed : ExitCode.Ok,
    functionName,
    architecture,
    emulated: clients.target.kind !== 'aws',
    samples: keys,
    invocationsPerSize,
    originalMemoryMb,
    rows,
    cheapestMemoryMb: cheapest?.memoryMb,
    fastestMemoryMb: fastest?.memoryMb,
    applied,
    finalMemoryMb,
    interrupted,
  };
}
