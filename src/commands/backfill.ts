import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEFAULT_BACKFILL_CONCURRENCY } from '../constants.js';
import type { BackfillOptions, BackfillResult } from '../operations/backfill.js';
import type { QueueBackfillOptions, QueueBackfillResult } from '../operations/backfill-queue.js';
import { UsageError } from '../errors.js';
import { commandAction, flag, optionalChoice, optionalNumber, optionalString, parseChoice, parsePositiveInt, requiredNumber } from './shared.js';

/** direct: the CLI invokes the function per object (small buckets); queue: the stack's backfill queue feeds it (any size). */
export const BACKFILL_MODES = ['direct', 'queue'] as const;

/** `backfill --via queue`: the operation with its progress, then the summary. */
export async function runQueueBackfill(context: AppContext, options: QueueBackfillOptions = {}): Promise<QueueBackfillResult> {
  const operation = await import('../operations/backfill-queue.js');
  const { queueBackfillProgress, renderQueueBackfill } = await import('../ui/backfill-queue.js');
  const progress = queueBackfillProgress(context.output, 'Backfill via queue');
  const result = await operation.runQueueBackfill(context, options, progress);
  renderQueueBackfill(context.output, result);
  return result;
}

/** The command's whole work once its flags are valid: the operation, then its rendering. */
export async function runBackfill(context: AppContext, options: BackfillOptions = {}): Promise<BackfillResult> {
  const operation = await import('../operations/backfill.js');
  const { renderBackfill } = await import('../ui/backfill.js');
  const result = await operation.runBackfill(context, options);
  renderBackfill(context.output, result, Boolean(options.dryRun));
  return result;
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description('process the source objects that have no SUCCEEDED metadata item (e.g. uploaded before the trigger existed)')
    .option('--prefix <prefix>', 'only objects whose key starts with this (e.g. photos/ or photos/IMG_)')
    .addOption(
      new Option('--concurrency <n>', 'invocations in flight at once')
        .default(DEFAULT_BACKFILL_CONCURRENCY)
        .argParser(parsePositiveInt('--concurrency', 1000)),
    )
    .option('--dry-run', 'list what would be processed, invoke nothing')
    .option('--force', 'reprocess every object, SUCCEEDED ones too')
    .option('--retry-failed', 'also process objects whose last item FAILED permanently (UNSUPPORTED_FORMAT, CORRUPT_IMAGE, ...)')
    .addOption(
      new Option('--via <mode>', 'direct: invoke the function from here (small buckets); queue: enqueue into the stack\'s backfill queue (any size)')
        .default('direct')
        .argParser(parseChoice('--via', BACKFILL_MODES)),
    )
    .option('--no-wait', 'with --via queue: return once everything is enqueued (run again to follow it)')
    // Keys per listing page (S3's maximum unless smaller): tests use small pages to stop a run part-way.
    .addOption(new Option('--page-size <n>').argParser(parsePositiveInt('--page-size', 1000)).hideHelp())
    .action(
      commandAction(async (context, { options }) => {
        const prefix = optionalString(options, 'prefix');
        const concurrency = requiredNumber(options, 'concurrency');
        const dryRun = flag(options, 'dryRun');
        const force = flag(options, 'force');
        const retryFailed = flag(options, 'retryFailed');
        const via = optionalChoice(options, 'via', BACKFILL_MODES) ?? 'direct';
        const wait = options.wait !== false;
        const pageSize = optionalNumber(options, 'pageSize');
        if (via === 'direct' && !wait) throw new UsageError('--no-wait applies to --via queue only.', 'Direct backfill invokes the function from here and waits by its nature.');
        if (via === 'queue' && dryRun) throw new UsageError('--dry-run applies to --via direct only.', 'Run `img-resizer backfill --dry-run` to list what would be processed.');
        // Ctrl-C stops starting new invocations; those in flight finish and the summary says what is left.
        const interrupt = new AbortController();
        const onSigint = (): void => { interrupt.abort(); };
        process.once('SIGINT', onSigint);
        try {
          if (via === 'queue') return await runQueueBackfill(context, { prefix, force, retryFailed, wait, pageSize, signal: interrupt.signal });
          return await runBackfill(context, { prefix, concurrency, dryRun, force, retryFailed, pageSize, signal: interrupt.signal });
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
