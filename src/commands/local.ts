import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import {
  localStateDir,
  localStatus,
  resetLocalStack,
  startLocalStack,
  stopLocalStack,
  type LocalStackInfo,
} from '../local/ministack.js';
import { action, parsePositiveInt } from './shared.js';

function describe(info: LocalStackInfo) {
  return { running: info.running, endpoint: info.endpoint, port: info.port, pid: info.pid ?? null, version: info.version, stateDir: info.stateDir };
}

export async function runLocalStart(context: AppContext, options: { port?: number | undefined }): Promise<LocalStackInfo> {
  const stateDir = localStateDir(context.cwd);
  const info = await startLocalStack({ stateDir, port: options.port, output: context.output });
  return info;
}

export function localCommand(): Command {
  const local = new Command('local').description('manage the bundled local AWS stack (MiniStack) for this working directory');

  local
    .command('start')
    .description('install MiniStack on first use and start it on 127.0.0.1 (state kept under .img-resizer/local/)')
    .addOption(new Option('--port <port>', 'port to listen on (default 4566)').argParser(parsePositiveInt('--port', 65535)))
    .action(
      action(async (context: AppContext, options: { port?: number }) => {
        const before = await localStatus(localStateDir(context.cwd));
        const info = await runLocalStart(context, options);
        if (context.output.json) context.output.result(describe(info));
        else if (before.running) context.output.success(`Local stack already running on ${info.endpoint} (pid ${info.pid ?? '?'})`);
        else context.output.info(`Endpoint: ${info.endpoint}`);
        return ExitCode.Ok;
      }),
    );

  local
    .command('stop')
    .description('stop the local stack started from this working directory (its state is kept)')
    .action(
      action(async (context: AppContext) => {
        const result = await stopLocalStack(localStateDir(context.cwd));
        if (context.output.json) context.output.result(result);
        else if (result.stopped) context.output.success(`Stopped the local stack (pid ${result.pid ?? '?'})`);
        else context.output.info('The local stack was not running.');
        return ExitCode.Ok;
      }),
    );

  local
    .command('status')
    .description('say whether the local stack runs, and where')
    .action(
      action(async (context: AppContext) => {
        const info = await localStatus(localStateDir(context.cwd));
        if (context.output.json) context.output.result(describe(info));
        else if (info.running) context.output.info(`running on ${info.endpoint} (pid ${info.pid ?? '?'}, MiniStack ${info.version})`);
        else context.output.info('not running (start it with `img-resizer local start`)');
        return ExitCode.Ok;
      }),
    );

  local
    .command('reset')
    .description('delete every resource and object in the running local stack')
    .action(
      action(async (context: AppContext) => {
        const info = await localStatus(localStateDir(context.cwd));
        if (!info.running) {
          context.output.info('The local stack is not running; nothing to reset.');
          return ExitCode.Ok;
        }
        await resetLocalStack(info.endpoint);
        if (context.output.json) context.output.result({ reset: true, endpoint: info.endpoint });
        else context.output.success(`Reset the local stack on ${info.endpoint}`);
        return ExitCode.Ok;
      }),
    );

  return local;
}
