import { Command, Option } from 'commander';
import { ARCHITECTURES, DEFAULT_BUILD_DIR } from '../constants.js';
import { LAMBDA_RUNTIMES } from '../runtimes.js';
import type { BuildReport } from '../operations/build.js';
import { commandAction, flag, optionalChoice, parseChoice, requiredString, type CommandResult } from './shared.js';

export function buildCommand(): Command {
  return new Command('build')
    .description('bundle the function and build the sharp layer: writes function.zip and sharp-layer-<arch>.zip, prints sizes and SHA-256')
    .addOption(new Option('--arch <arch>', "Lambda architecture (default: the settings file's, else x86_64)").argParser(parseChoice('--arch', ARCHITECTURES)))
    .addOption(new Option('--runtime <runtime>', "Lambda runtime the bundle targets (default: the settings file's, else the newest supported)").argParser(parseChoice('--runtime', LAMBDA_RUNTIMES)))
    .option('--out <dir>', 'output directory', DEFAULT_BUILD_DIR)
    .option('--sourcemap', 'put index.mjs.map into the function zip')
    .option('--measure-import', 'also time a cold import of the bundled handler with sharp (host architecture only)')
    .action(
      commandAction(async (context, { options }): Promise<CommandResult & { report: BuildReport }> => {
        const flags = {
          arch: optionalChoice(options, 'arch', ARCHITECTURES),
          runtime: optionalChoice(options, 'runtime', LAMBDA_RUNTIMES),
          out: requiredString(options, 'out'),
          sourcemap: flag(options, 'sourcemap'),
          measureImport: flag(options, 'measureImport'),
        };
        const { runBuild, defaultBuildArch, defaultBuildRuntime } = await import('../operations/build.js');
        const { renderBuild } = await import('../ui/build.js');
        const arch = flags.arch ?? (await defaultBuildArch(context.settingsFile));
        const runtime = flags.runtime ?? (await defaultBuildRuntime(context.settingsFile));
        const { report, exitCode } = await runBuild({ ...flags, arch, runtime, cwd: context.cwd }, context.output);
        renderBuild(context.output, report);
        return { exitCode, report };
      }),
    );
}
