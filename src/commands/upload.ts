import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { DEFAULT_WAIT_TIMEOUT_SECONDS } from '../constants.js';
import type { UploadOptions, UploadReport } from '../operations/upload.js';
import type { UploadViaApiOptions } from '../operations/upload-via-api.js';
import type { ExitCode } from '../errors.js';
import {
  commandAction,
  flag,
  handleInterrupt,
  optionalFlag,
  optionalString,
  parsePositiveInt,
  requiredNumber,
  stringListArgument,
} from './shared.js';

/** The command's whole work once its flags are valid: the operation, then its rendering. */
export async function runUpload(context: AppContext, options: UploadOptions): Promise<{ exitCode: ExitCode; report: UploadReport }> {
  const operation = await import('../operations/upload.js');
  const { renderUpload } = await import('../ui/upload.js');
  const result = await operation.runUpload(context, options);
  renderUpload(context.output, result.report);
  return result;
}

/** `upload --via-api`: the same report and renderer, through the stack's HTTP API (issue 14). */
export async function runUploadViaApi(context: AppContext, options: UploadViaApiOptions): Promise<{ exitCode: ExitCode; report: UploadReport }> {
  const operation = await import('../operations/upload-via-api.js');
  const { renderUpload } = await import('../ui/upload.js');
  const result = await operation.runUploadViaApi(context, options);
  renderUpload(context.output, result.report);
  return result;
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
    .option('--strict', 'refuse the whole batch when a file is not an image (by default it is skipped with a warning, exit 1)')
    .addOption(new Option('--concurrency <n>', 'files uploaded at once').default(4).argParser(parsePositiveInt('--concurrency', 64)))
    .option('--via-api', 'upload through the stack\'s HTTP API (init --api): POST /uploads, then the presigned POST to S3')
    .addOption(new Option('--api-token <token>', 'bearer token for a JWT-authorised API (--via-api); prefer the environment variable').env('IMG_RESIZER_API_TOKEN'))
    .action(
      commandAction(async (context, { args, options }) => {
        const paths = stringListArgument(args, 0, 'path');
        const prefix = optionalString(options, 'prefix');
        const wait = optionalFlag(options, 'wait') ?? context.output.interactive;
        const timeoutSeconds = requiredNumber(options, 'timeout');
        const force = flag(options, 'force');
        const strict = flag(options, 'strict');
        const concurrency = requiredNumber(options, 'concurrency');
        // Ctrl-C stops starting uploads and stops waiting; uploads in flight finish, and one message says what is
        // up and how to check it (main() prints nothing of its own; a second Ctrl-C still quits at once).
        const interrupt = new AbortController();
        const release = handleInterrupt(() => { interrupt.abort(); });
        try {
          if (flag(options, 'viaApi')) {
            const apiToken = optionalString(options, 'apiToken');
            return await runUploadViaApi(context, { paths, prefix, wait, timeoutSeconds, strict, concurrency, apiToken, signal: interrupt.signal });
          }
          return await runUpload(context, { paths, prefix, wait, timeoutSeconds, force, strict, concurrency, signal: interrupt.signal });
        } finally {
          release();
        }
      }),
    );
}
