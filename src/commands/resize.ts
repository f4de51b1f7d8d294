import { Command, Option } from 'commander';
import { DEFAULT_FIT, DEFAULT_OUTPUT_FORMAT, FIT_MODES, OUTPUT_FORMATS } from '../../lambda-src/core/settings.js';
import { DEFAULT_SIZE_SPEC } from '../../lambda-src/core/sizes.js';
import type { ResizeReport } from '../operations/resize.js';
import {
  commandAction,
  optionalChoice,
  optionalFlag,
  optionalNumber,
  optionalString,
  parseChoice,
  requiredString,
  stringListArgument,
  type CommandResult,
} from './shared.js';
import { parseSettingFlag } from './setting-flag.js';

export function resizeCommand(): Command {
  return new Command('resize')
    .description("resize local files with the function's own image core, no AWS involved; outputs are named as the function names them")
    .argument('<path...>', 'files, directories (every file below) or quoted globs')
    .requiredOption('--out <dir>', 'directory to write the outputs under')
    .option('--sizes <spec>', `comma-separated name=WIDTHxHEIGHT (default: the settings file's, else ${DEFAULT_SIZE_SPEC})`)
    .addOption(new Option('--format <format>', `output format: ${OUTPUT_FORMATS.join(', ')} (default: the settings file's, else ${DEFAULT_OUTPUT_FORMAT})`).argParser(parseChoice('--format', OUTPUT_FORMATS)))
    .addOption(new Option('--fit <fit>', `how an image meets its box: ${FIT_MODES.join(', ')} (default: the settings file's, else ${DEFAULT_FIT})`).argParser(parseChoice('--fit', FIT_MODES)))
    .addOption(new Option('--quality <n>', "encoder quality 1-100 for jpeg, webp and avif (default: the settings file's, else the encoder's)").argParser(parseSettingFlag('quality')))
    .addOption(new Option('--background <colour>', "what transparent pixels become in JPEG: a CSS name or #rrggbb (default: the settings file's, else white)").argParser(parseSettingFlag('background')))
    .option('--allow-upscale', "enlarge images smaller than their box (default: the settings file's, else never)")
    .option('--no-allow-upscale', 'never enlarge, whatever the settings file says')
    .action(
      commandAction(async (context, { args, options }): Promise<CommandResult & { report: ResizeReport }> => {
        const paths = stringListArgument(args, 0, 'path');
        const resizeOptions = {
          out: requiredString(options, 'out'),
          sizes: optionalString(options, 'sizes'),
          format: optionalChoice(options, 'format', OUTPUT_FORMATS),
          fit: optionalChoice(options, 'fit', FIT_MODES),
          quality: optionalNumber(options, 'quality'),
          background: optionalString(options, 'background'),
          allowUpscale: optionalFlag(options, 'allowUpscale'),
        };
        const { runResize } = await import('../operations/resize.js');
        const { renderResize } = await import('../ui/resize.js');
        const report = await runResize(context, paths, resizeOptions);
        renderResize(context.output, report, context.cwd);
        return { exitCode: report.exitCode, report };
      }),
    );
}
