import { Command, Option } from 'commander';
import { commandAction, optionalNumber, parsePositiveInt } from './shared.js';

export function localCommand(): Command {
  const local = new Command('local').description('manage the bundled local AWS stack (MiniStack) for this working directory');

  local
    .command('start')
    .description('install MiniStack on first use and start it on 127.0.0.1 (state kept under .img-resizer/local/)')
    .addOption(new Option('--port <port>', 'port to listen on (default 4566)').argParser(parsePositiveInt('--port', 65535)))
    .action(
      commandAction(async (context, { options }) => {
        const port = optionalNumber(options, 'port');
        const { runLocalStart } = await import('../operations/local.js');
        const { renderLocalStart } = await import('../ui/local.js');
        const report = await runLocalStart(context, { port });
        renderLocalStart(context.output, report);
        return report;
      }),
    );

  local
    .command('stop')
    .description('stop the local stack started from this working directory (its state is kept)')
    .action(
      commandAction(async (context) => {
        const { runLocalStop } = await import('../operations/local.js');
        const { renderLocalStop } = await import('../ui/local.js');
        const result = await runLocalStop(context);
        renderLocalStop(context.output, result);
        return result;
      }),
    );

  local
    .command('status')
    .description('say whether the local stack runs, and where')
    .action(
      commandAction(async (context) => {
        const { runLocalStatus } = await import('../operations/local.js');
        const { renderLocalStatus } = await import('../ui/local.js');
        const report = await runLocalStatus(context);
        renderLocalStatus(context.output, report);
        return report;
      }),
    );

  local
    .command('reset')
    .description('delete every resource and object in the running local stack')
    .action(
      commandAction(async (context) => {
        const { runLocalReset } = await import('../operations/local.js');
        const { renderLocalReset } = await import('../ui/local.js');
        const result = await runLocalReset(context);
        renderLocalReset(context.output, result);
        return result;
      }),
    );

  return local;
}
