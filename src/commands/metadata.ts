import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { METADATA_STATUSES, runMetadataGet, runMetadataList } from '../pipeline/metadata.js';
import { action, parseChoice, parsePositiveInt } from './shared.js';

export { runMetadataGet, runMetadataList, type MetadataListOptions } from '../pipeline/metadata.js';

export function metadataCommand(): Command {
  const metadata = new Command('metadata').description('read what the function recorded in the metadata table');

  metadata
    .command('list')
    .description('every item of the table, printed as pages arrive (a table, or a JSON array with --json)')
    .addOption(new Option('--limit <n>', 'print at most N items').argParser(parsePositiveInt('--limit')))
    .addOption(new Option('--status <status>', 'only SUCCEEDED or FAILED items').argParser(parseChoice('--status', METADATA_STATUSES)))
    .action(
      action(async (context: AppContext, flags: { limit?: number; status?: (typeof METADATA_STATUSES)[number] }) => {
        const { exitCode } = await runMetadataList(context, { limit: flags.limit, status: flags.status });
        return exitCode;
      }),
    );

  metadata
    .command('get')
    .description('the item of one source object')
    .argument('<source-key>', 'the object\'s key in the source bucket (or s3://bucket/key)')
    .option('--html', 'print an <img srcset sizes> (a <picture> when outputs come in several formats) to paste into a page')
    .addOption(new Option('--expires <seconds>', 'lifetime of presigned URLs when the stack has no CDN (default 3600)').argParser(parsePositiveInt('--expires', 604_800)))
    .action(
      action(async (context: AppContext, sourceKey: string, flags: { html?: boolean; expires?: number }) => {
        const { exitCode } = await runMetadataGet(context, sourceKey, { html: flags.html, expires: flags.expires });
        return exitCode;
      }),
    );

  return metadata;
}
