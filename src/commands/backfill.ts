import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEFAULT_BACKFILL_CONCURRENCY } from '../constants.js';
import type { BackfillOptions, BackfillResult } from '../operations/backfill.js';
import { commandAction, flag, optionalString, parsePositiveInt, requiredNumber } from './shared.js';

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
    .action(
      commandAction(async (context, { options }) => {
        const prefix = optionalString(options, 'prefix');
        const concurrency = requiredNumber(options, 'concurrency');
        const dryRun = flag(options, 'dryRun');
        const force = flag(options, 'force');
        // Ctrl-C stops starting new invocations; those in flight finish and the summary says what is left.
        const interrupt = new AbortController();
        const onSigint = (): void => { interrupt.abort(); };
        process.once('SIGINT', onSigint);
        try {
          return await runBackfill(context, { prefix, concurrency, dryRun, force, signal: interrupt.signal });
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
