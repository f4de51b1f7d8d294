import { Command, Option } from 'commander';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import type { AppContext } from '../context.js';
import { METADATA_STATUSES } from '../constants.js';
import type { ExitCode } from '../errors.js';
import type { MetadataListOptions, MetadataListResult } from '../operations/metadata.js';
import { commandAction, optionalChoice, optionalNumber, parseChoice, parsePositiveInt, stringArgument } from './shared.js';

/** The command's whole work once its flags are valid: the operation, rendering each page as it arrives. */
export async function runMetadataList(context: AppContext, options: MetadataListOptions = {}): Promise<MetadataListResult> {
  const operation = await import('../operations/metadata.js');
  const { metadataListRenderer } = await import('../ui/metadata.js');
  const renderer = metadataListRenderer(context.output, context.output.json);
  const result = await operation.runMetadataList(context, options, renderer.sink);
  renderer.finish(result);
  return result;
}

/** The command's whole work once its argument is valid: the operation, then its rendering. */
export async function runMetadataGet(context: AppContext, sourceKey: string): Promise<{ exitCode: ExitCode; item: MetadataItem }> {
  const operation = await import('../operations/metadata.js');
  const { renderMetadataItem } = await import('../ui/metadata.js');
  const result = await operation.runMetadataGet(context, sourceKey);
  renderMetadataItem(context.output, result.item);
  return result;
}

export function metadataCommand(): Command {
  const metadata = new Command('metadata').description('read what the function recorded in the metadata table');

  metadata
    .command('list')
    .description('every item of the table, printed as pages arrive (a table, or a JSON array with --json)')
    .addOption(new Option('--limit <n>', 'print at most N items').argParser(parsePositiveInt('--limit')))
    .addOption(new Option('--status <status>', 'only SUCCEEDED or FAILED items').argParser(parseChoice('--status', METADATA_STATUSES)))
    .action(
      commandAction((context, { options }) =>
        runMetadataList(context, { limit: optionalNumber(options, 'limit'), status: optionalChoice(options, 'status', METADATA_STATUSES) }),
      ),
    );

  metadata
    .command('get')
    .description('the item of one source object')
    .argument('<source-key>', 'the object\'s key in the source bucket (or s3://bucket/key)')
    .action(commandAction((context, { args }) => runMetadataGet(context, stringArgument(args, 0, 'source-key'))));

  return metadata;
}
