import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEFAULT_BACKFILL_CONCURRENCY, runBackfill } from '../operations/backfill.js';
import { action, parsePositiveInt } from './shared.js';

export { runBackfill, type BackfillOptions, type BackfillReport } from '../operations/backfill.js';

interface BackfillFlags {
  prefix?: string;
  concurrency: number;
  dryRun?: boolean;
  force?: boolean;
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
      action(async (context: AppContext, flags: BackfillFlags) => {
        // Ctrl-C stops starting new invocations; those in flight finish and the summary says what is left.
        const interrupt = new AbortController();
        const onSigint = (): void => { interrupt.abort(); };
        process.once('SIGINT', onSigint);
        try {
          const { exitCode } = await runBackfill(context, {
            prefix: flags.prefix,
            concurrency: flags.concurrency,
            dryRun: Boolean(flags.dryRun),
            force: Boolean(flags.force),
            signal: interrupt.signal,
          });
          return exitCode;
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
