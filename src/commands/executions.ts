import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import type { ExecutionsOptions, ExecutionsResult } from '../operations/executions.js';
import { flag, optionalNumber, type RawOptions } from './provision-options.js';
import { action, parsePositiveInt } from './shared.js';

export function executionsOptionsFrom(raw: RawOptions): ExecutionsOptions {
  return { failed: flag(raw, 'failed'), limit: optionalNumber(raw, 'limit') };
}

/** Lists the workflow's recent executions (workflow mode), as a table or the --json document. */
export async function executeExecutions(context: AppContext, options: ExecutionsOptions = {}): Promise<ExecutionsResult> {
  const [{ listExecutions }, { renderTable }] = await Promise.all([import('../operations/executions.js'), import('../ui/output.js')]);
  const result = await listExecutions(context, options);
  const { output } = context;
  if (output.json) {
    output.result({ stateMachineArn: result.stateMachineArn, executions: result.executions });
    return result;
  }
  if (result.executions.length === 0) {
    output.info(options.failed ? 'No failed executions.' : 'No executions yet.');
    return result;
  }
  output.info(
    renderTable(
      ['Started', 'Status', 'Object', 'Error'],
      result.executions.map((e) => [e.startedAt ?? '', e.status, e.object ?? '', e.error ?? '']),
    ),
  );
  return result;
}

export function executionsCommand(): Command {
  return new Command('executions')
    .description('workflow mode: list the state machine\'s recent executions, newest first, with their errors')
    .option('--failed', 'only executions that failed, timed out or were aborted')
    .addOption(new Option('--limit <n>', 'at most this many (default 20)').argParser(parsePositiveInt('--limit', 1000)))
    .action(
      action(async (context: AppContext, raw: RawOptions) => {
        const result = await executeExecutions(context, executionsOptionsFrom(raw));
        return result.exitCode;
      }),
    );
}
