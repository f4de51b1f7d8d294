import { Command } from 'commander';
import type { AppContext } from '../context.js';
import type { DestroyOptions, DestroyResult } from '../operations/destroy.js';
import { commandAction, flag, type CommandResult } from './shared.js';

export function destroyOptionsFrom(raw: Readonly<Record<string, unknown>>): DestroyOptions {
  return { keepBuckets: flag(raw, 'keepBuckets'), dryRun: flag(raw, 'dryRun'), noWait: raw.wait === false };
}

/** Runs destroy with a spinner per step, then prints the summary (or the --json document). */
export async function executeDestroy(context: AppContext, options: DestroyOptions = {}): Promise<DestroyResult> {
  const [{ runDestroy }, { renderDestroy, stepReporter }] = await Promise.all([import('../operations/destroy.js'), import('../ui/provision.js')]);
  const result = await runDestroy(context, { onEvent: stepReporter(context.output, 'remove'), ...options });
  renderDestroy(context.output, result);
  return result;
}

export function destroyCommand(): Command {
  return new Command('destroy')
    .description('remove what init created, trigger first (asks first on a terminal; --yes otherwise)')
    .option('--keep-buckets', 'keep both buckets and their objects')
    .option('--dry-run', 'print what would be removed and change nothing')
    .option('--no-wait', 'disable the CDN distribution and leave it deploying; run destroy again later to delete it')
    .action(commandAction((context, { options }): Promise<CommandResult> => executeDestroy(context, destroyOptionsFrom(options))));
}
