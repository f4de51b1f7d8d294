import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, runUpload } from '../operations/upload.js';
import { action, parsePositiveInt } from './shared.js';

export { runUpload, type UploadOptions, type UploadReport } from '../operations/upload.js';

interface UploadFlags {
  prefix?: string;
  wait?: boolean;
  timeout?: number;
  force?: boolean;
  concurrency?: number;
}

export function uploadCommand(): Command {
  return new Command('upload')
    .description('upload images to the source bucket (files, directories and globs) and, with --wait, show what the function made of them')
    .argument('<path...>', 'files, directories (uploaded recursively) or quoted globs such as "shots/*.jpg"')
    .option('--prefix <prefix>', 'key prefix (a folder) for the uploaded objects; names are kept below it')
    .option('--wait', 'wait for each image\'s metadata item and print it (default on a terminal)')
    .option('--no-wait', 'return as soon as the files are uploaded')
    .addOption(
      new Option('--timeout <seconds>', 'how long --wait waits for the function')
        .default(DEFAULT_WAIT_TIMEOUT_SECONDS)
        .argParser(parsePositiveInt('--timeout', 3600)),
    )
    .option('--force', 'upload files whose bytes are not an image too')
    .addOption(new Option('--concurrency <n>', 'files uploaded at once').default(4).argParser(parsePositiveInt('--concurrency', 64)))
    .action(
      action(async (context: AppContext, paths: string[], flags: UploadFlags) => {
        // Ctrl-C stops starting uploads and stops waiting; uploads in flight finish and the summary says what is left.
        const interrupt = new AbortController();
        const onSigint = (): void => { interrupt.abort(); };
        process.once('SIGINT', onSigint);
        try {
          const { exitCode } = await runUpload(context, {
            paths,
            prefix: flags.prefix,
            wait: flags.wait ?? context.output.interactive,
            timeoutSeconds: flags.timeout,
            force: Boolean(flags.force),
            concurrency: flags.concurrency,
            signal: interrupt.signal,
          });
          return exitCode;
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
