import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import type { UrlOptions, UrlResult } from '../operations/delivery.js';
import { commandAction, optionalNumber, optionalString, parsePositiveInt, stringArgument } from './shared.js';

/** The command's whole work once its flags are valid: the operation, then the URL (or the --json document). */
export async function executeUrl(context: AppContext, sourceKey: string, options: UrlOptions = {}): Promise<UrlResult> {
  const { runUrl } = await import('../operations/delivery.js');
  const result = await runUrl(context, sourceKey, options);
  if (context.output.json) context.output.result(result);
  else context.output.info(result.url);
  return result;
}

export function urlCommand(): Command {
  return new Command('url')
    .description('print the URL of an output: through the CDN when the stack has one, else presigned (expires)')
    .argument('<source-key>', 'the object\'s key in the source bucket (or s3://bucket/key)')
    .option('--size <name>', 'which output (default the first size)')
    .addOption(new Option('--expires <seconds>', 'lifetime of a presigned URL (default 3600, at most 604800)').argParser(parsePositiveInt('--expires', 604_800)))
    .action(
      commandAction((context, { args, options }) =>
        executeUrl(context, stringArgument(args, 0, 'source-key'), { size: optionalString(options, 'size'), expires: optionalNumber(options, 'expires') }),
      ),
    );
}
