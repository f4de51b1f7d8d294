import { Command } from 'commander';
import type { AppContext } from '../context.js';
import type { StatusResult } from '../operations/status.js';
import { commandAction, connectToStack, type CommandResult } from './shared.js';

/** Checks the stack and prints the resource and link tables (or the --json document). */
export async function executeStatus(context: AppContext): Promise<StatusResult> {
  await connectToStack(context);
  const [{ runStatus }, { renderStatus }] = await Promise.all([import('../operations/status.js'), import('../ui/provision.js')]);
  const result = await runStatus(context);
  renderStatus(context.output, result);
  return result;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('check every resource and the wiring between them; exit 3 on any drift, or when the stack is not deployed')
    .action(commandAction((context): Promise<CommandResult> => executeStatus(context)));
}
