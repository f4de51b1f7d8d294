import { Command } from 'commander';
import type { AppContext } from '../context.js';
import type { FailedEvent, FailuresListResult, FailuresRedriveResult } from '../operations/failures.js';
import { commandAction, flag, type CommandResult } from './shared.js';

function failureRow(failure: FailedEvent): string[] {
  return [failure.keys.join(', ') || '(none)', failure.error, failure.attempts === undefined ? '?' : String(failure.attempts), failure.failedAt ?? '?'];
}

export async function executeFailuresList(context: AppContext): Promise<FailuresListResult> {
  const [{ runFailuresList }, { renderTable }] = await Promise.all([import('../operations/failures.js'), import('../ui/table.js')]);
  const { output } = context;
  const result = await runFailuresList(context);
  if (output.json) output.result({ failures: result.failures });
  else if (result.failures.length === 0) output.info('No failed events.');
  else {
    output.info(renderTable(['Key', 'Error', 'Attempts', 'Failed at'], result.failures.map(failureRow), { width: output.tableWidth }));
    output.note('`img-resizer failures redrive` runs them again once the cause is fixed.');
  }
  return result;
}

export async function executeFailuresRedrive(context: AppContext, options: { dryRun: boolean; signal?: AbortSignal }): Promise<FailuresRedriveResult> {
  const { runFailuresRedrive } = await import('../operations/failures.js');
  const { output } = context;
  const controller = new AbortController();
  const stop = () => {
    controller.abort();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  process.once('SIGINT', stop);
  try {
    const result = await runFailuresRedrive(context, {
      dryRun: options.dryRun,
      signal: controller.signal,
      onOutcome: (o) => {
        if (output.json) return;
        const keys = o.keys.join(', ') || o.messageId;
        if (o.outcome === 'planned') output.info(`would redrive ${keys} (${o.error})`);
        else if (o.outcome === 'redriven') output.success(`${keys}: processed, removed from the queue`);
        else output.warn(`${keys}: ${o.outcome === 'skipped' ? 'skipped' : 'failed again'}${o.detail ? ` (${o.detail})` : ''}; left in the queue`);
      },
    });
    if (output.json) output.result({ dryRun: options.dryRun, interrupted: result.interrupted, outcomes: result.outcomes });
    else if (result.outcomes.length === 0 && !result.interrupted) output.info('No failed events.');
    else if (result.interrupted) output.warn('Interrupted: the events not yet run are back in the queue.');
    return result;
  } finally {
    process.off('SIGINT', stop);
    options.signal?.removeEventListener('abort', stop);
  }
}

export function failuresCommand(): Command {
  const failures = new Command('failures').description('events the function failed on through every retry (the failed-events queue)');
  failures
    .command('list')
    .description('list the failed events: key, error, attempts, when Lambda gave up')
    .action(commandAction((context): Promise<CommandResult> => executeFailuresList(context)));
  failures
    .command('redrive')
    .description('invoke the function again with each failed event; an event leaves the queue only once it succeeded')
    .option('--dry-run', 'list what would be redriven and change nothing')
    .action(commandAction((context, { options }): Promise<CommandResult> => executeFailuresRedrive(context, { dryRun: flag(options, 'dryRun') })));
  return failures;
}
