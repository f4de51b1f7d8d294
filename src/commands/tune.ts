import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_TUNE_INVOCATIONS, DEFAULT_TUNE_MEMORY_SIZES, LAMBDA_MEMORY_RANGE_MB, TUNE_CHOICES, type TuneChoice } from '../constants.js';
import type { AppContext } from '../context.js';
import type { TuneOptions, TuneResult } from '../operations/tune.js';
import { CliError } from '../errors.js';
import { commandAction, optionalNumber, parsePositiveInt } from './shared.js';

/** The command's whole work once its flags are valid: the operation with its progress lines, then the table. */
export async function runTune(context: AppContext, options: TuneOptions): Promise<TuneResult> {
  const operation = await import('../operations/tune.js');
  const { renderTune, tuneProgressRenderer } = await import('../ui/tune.js');
  const result = await operation.runTune(context, options, tuneProgressRenderer(context.output));
  renderTune(context.output, result);
  return result;
}

/** "512,1024,1769": whole MB in Lambda's range. */
function parseMemorySizes(raw: string): number[] {
  const sizes = raw.split(',').map((part) => part.trim());
  const { min, max } = LAMBDA_MEMORY_RANGE_MB;
  if (sizes.some((size) => !/^\d+$/.test(size) || Number(size) < min || Number(size) > max)) {
    throw new InvalidArgumentError(`--memory-sizes must be a comma-separated list of whole MB from ${min} to ${max}, e.g. ${DEFAULT_TUNE_MEMORY_SIZES.join(',')}.`);
  }
  return sizes.map(Number);
}

function memorySizesOption(options: Readonly<Record<string, unknown>>): number[] | undefined {
  const value = options.memorySizes;
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item): item is number => typeof item === 'number')) return value;
  throw new CliError('INTERNAL', 'Option memorySizes was parsed as something other than a list of numbers.');
}

function samplesOption(options: Readonly<Record<string, unknown>>): string[] | undefined {
  const value = options.sample;
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) return value;
  throw new CliError('INTERNAL', 'Option sample was parsed as something other than a list of keys.');
}

/** `--apply` alone means the cheapest. */
function applyOption(options: Readonly<Record<string, unknown>>): TuneChoice | undefined {
  const value = options.apply;
  if (value === undefined || value === false) return undefined;
  if (value === true) return 'cheapest';
  const choice = TUNE_CHOICES.find((candidate) => candidate === value);
  if (choice === undefined) throw new CliError('INTERNAL', 'Option apply was parsed as something other than cheapest or fastest.');
  return choice;
}

export function tuneCommand(): Command {
  return new Command('tune')
    .description('power-tune the deployed function: time it at several memory sizes with real images, then put its memory back (or --apply the best)')
    .addOption(
      new Option('--memory-sizes <list>', `memory sizes to try, in MB (default ${DEFAULT_TUNE_MEMORY_SIZES.join(',')})`).argParser(parseMemorySizes),
    )
    .addOption(new Option('--sample <key...>', 'source keys to invoke with (default: the few most recent SUCCEEDED images)'))
    .addOption(
      new Option('--invocations <n>', `measured invocations per memory size, after one warm-up (default ${DEFAULT_TUNE_INVOCATIONS})`).argParser(
        parsePositiveInt('--invocations', 100),
      ),
    )
    .addOption(new Option('--apply [choice]', 'leave the function at the cheapest memory size (or: fastest) and record it in the settings file').choices(TUNE_CHOICES))
    .action(
      commandAction(async (context, { options }) => {
        const tuneOptions = {
          memorySizes: memorySizesOption(options),
          samples: samplesOption(options),
          invocations: optionalNumber(options, 'invocations'),
          apply: applyOption(options),
        };
        // The first Ctrl-C stops invoking; the function's memory is put back, then tune exits 130 (main's handler
        // makes a second Ctrl-C quit at once, leaving the memory as it is).
        const interrupt = new AbortController();
        const onSigint = (): void => { interrupt.abort(); };
        process.once('SIGINT', onSigint);
        try {
          return await runTune(context, { ...tuneOptions, signal: interrupt.signal });
        } finally {
          process.off('SIGINT', onSigint);
        }
      }),
    );
}
