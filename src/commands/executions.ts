import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import type { ExecutionsOptions, ExecutionsResult } from '../operations/executions.js';
import { commandAction, flag, optionalNumber, parsePositiveInt } from './shared.js';

/** The command line's options, checked into the operation's typed options. */
export function executionsOptionsFrom(raw: Readonly<Record<string, unknown>>): ExecutionsOptions {
  return { failed: flag(raw, 'failed'), limit: optionalNumber(raw, 'limit') };
}

/** The command's whole work once its flags are valid: the operation, then its rendering. */
export async function executeExecutions(context: AppContext, options: ExecutionsOptions = {}): Promise<ExecutionsResult> {
  const [{ listExecutions }, { renderExecutions }] = await Promise.all([import('../operations/executions.js'), import('../ui/executions.js')]);
  const result = await listExecutions(context, options);
  renderExecutions(context.output, result, Boolean(options.failed));
  return result;
}

export function executionsCommand(): Command {
  return new Command('executions')
    .description("workflow mode: list the state machine's recent executions, newest first, with their errors")
    .option('--failed', 'only executions that failed, timed out or were aborted')
    .addOption(new Option('--limit <n>', 'at most this many (default 20)').argParser(parsePositiveInt('--limit', 1000)))
    .action(commandAction((context, { options }) => executeExecutions(context, executionsOptionsFrom(options))));
}
