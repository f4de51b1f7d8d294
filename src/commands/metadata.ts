import { Command, InvalidArgumentError, Option } from 'commander';
import type { AppContext } from '../context.js';
import { METADATA_STATUSES } from '../constants.js';
import type { DuplicatesResult, MetadataDuplicatesOptions, MetadataGetOptions, MetadataGetResult, MetadataListOptions, MetadataListResult } from '../operations/metadata.js';
import { DEFAULT_DUPLICATE_DISTANCE } from '../operations/duplicates.js';
import { commandAction, connectToStack, flag, optionalChoice, optionalNumber, optionalString, parseChoice, parsePositiveInt, stringArgument } from './shared.js';

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
export async function runMetadataGet(context: AppContext, sourceKey: string, options: MetadataGetOptions = {}): Promise<MetadataGetResult> {
  await connectToStack(context);
  const operation = await import('../operations/metadata.js');
  const { renderMetadataItem } = await import('../ui/metadata.js');
  const result = await operation.runMetadataGet(context, sourceKey, options);
  renderMetadataItem(context.output, result);
  return result;
}

/** The command's whole work once its flags are valid: the grouping, then its rendering. */
export async function runMetadataDuplicates(context: AppContext, options: MetadataDuplicatesOptions): Promise<DuplicatesResult> {
  const operation = await import('../operations/metadata.js');
  const { renderDuplicates } = await import('../ui/metadata.js');
  const result = await operation.runMetadataDuplicates(context, options);
  renderDuplicates(context.output, result);
  return result;
}

/** 0-64: a Hamming distance between 64-bit hashes. */
function parseBits(flagName: string): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim()) || Number(raw) > 64) throw new InvalidArgumentError(`${flagName} must be a whole number of bits from 0 to 64.`);
    return Number(raw);
  };
}

export function metadataCommand(): Command {
  const metadata = new Command('metadata').description('read what the function recorded in the metadata table');

  metadata
    .command('list')
    .description('every item of the table, printed as pages arrive (a table, or a JSON array with --json)')
    .addOption(new Option('--limit <n>', 'print at most N items').argParser(parsePositiveInt('--limit')))
    .addOption(new Option('--status <status>', 'only SUCCEEDED or FAILED items').argParser(parseChoice('--status', METADATA_STATUSES)))
    .option('--label <name>', 'only items Rekognition labelled so (a label or a parent label, any case; needs init --labels)')
    .action(
      commandAction((context, { options }) =>
        runMetadataList(context, {
          limit: optionalNumber(options, 'limit'),
          status: optionalChoice(options, 'status', METADATA_STATUSES),
          label: optionalString(options, 'label'),
        }),
      ),
    );

  metadata
    .command('duplicates')
    .description('groups of near-duplicate images, by the distance between their perceptual hashes')
    .addOption(
      new Option('--distance <bits>', `bits two hashes may differ by and still group (default ${DEFAULT_DUPLICATE_DISTANCE}, measured on the corpus)`).argParser(
        parseBits('--distance'),
      ),
    )
    .action(commandAction((context, { options }) => runMetadataDuplicates(context, { distance: optionalNumber(options, 'distance') })));

  metadata
    .command('get')
    .description('the item of one source object')
    .argument('<source-key>', 'the object\'s key in the source bucket (or s3://bucket/key)')
    .option('--html', 'print an <img srcset sizes> (a <picture> when outputs come in several formats) to paste into a page')
    .addOption(new Option('--expires <seconds>', 'lifetime of presigned URLs when the stack has no CDN (default 3600)').argParser(parsePositiveInt('--expires', 604_800)))
    .action(
      commandAction((context, { args, options }) =>
        runMetadataGet(context, stringArgument(args, 0, 'source-key'), { html: flag(options, 'html'), expires: optionalNumber(options, 'expires') }),
      ),
    );

  return metadata;
}
