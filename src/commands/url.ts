import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import type { UrlOptions, UrlResult } from '../operations/delivery.js';
import { action, parsePositiveInt } from './shared.js';

export async function executeUrl(context: AppContext, sourceKey: string, options: UrlOptions = {}): Promise<UrlResult> {
  const { runUrl } = await import('../operations/delivery.js');
  return runUrl(context, sourceKey, options);
}

export function urlCommand(): Command {
  return new Command('url')
    .description('print the URL of an output: through the CDN when the stack has one, else presigned (expires)')
    .argument('<source-key>', 'the object\'s key in the source bucket (or s3://bucket/key)')
    .option('--size <name>', 'which output (default the first size)')
    .addOption(new Option('--expires <seconds>', 'lifetime of a presigned URL (default 3600, at most 604800)').argParser(parsePositiveInt('--expires', 604_800)))
    .action(
      action(async (context: AppContext, sourceKey: string, flags: { size?: string; expires?: number }) => {
        const result = await executeUrl(context, sourceKey, { size: flags.size, expires: flags.expires });
        return result.exitCode;
      }),
    );
}
