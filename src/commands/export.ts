import path from 'node:path';
import { Command, Option } from 'commander';
import { bucketNameProblem } from '../config/validation.js';
import { EXPORT_FORMATS, type ExportFormat } from '../constants.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import type { ExportResult } from '../operations/export.js';
import { commandAction, optionalChoice, optionalString, parseChoice, requiredString, type CommandResult } from './shared.js';

/** The command's options, validated. */
export interface ExportCommandOptions {
  format: ExportFormat;
  /** Absolute output directory. */
  outDir: string;
  artifactBucket?: string;
}

export function exportOptions(raw: { format: ExportFormat; out: string; artifactBucket?: string | undefined }, cwd: string): ExportCommandOptions {
  const options: ExportCommandOptions = { format: raw.format, outDir: path.resolve(cwd, raw.out) };
  if (raw.artifactBucket !== undefined) {
    const problem = bucketNameProblem(raw.artifactBucket);
    if (problem) throw new UsageError(`Artifact bucket "${raw.artifactBucket}" ${problem}.`, 'Give an existing bucket you may write to with --artifact-bucket.');
    options.artifactBucket = raw.artifactBucket;
  }
  return options;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('write the stack as a CloudFormation or SAM template, with the function and layer zips, to deploy with your own tooling')
    .addOption(new Option('--format <format>', 'template flavour').argParser(parseChoice('--format', EXPORT_FORMATS)).makeOptionMandatory())
    .requiredOption('--out <dir>', 'directory for template.json, function.zip and sharp-layer-<arch>.zip')
    .option('--artifact-bucket <bucket>', 'upload the zips to this existing bucket and reference them as S3 objects')
    .action(
      commandAction(async (context, { options: raw }): Promise<CommandResult & { result: ExportResult }> => {
        const format = optionalChoice(raw, 'format', EXPORT_FORMATS);
        // Commander refuses a missing --format (a mandatory option) before the action runs.
        if (format === undefined) throw new CliError('INTERNAL', 'export ran without --format.');
        const options = exportOptions({ format, out: requiredString(raw, 'out'), artifactBucket: optionalString(raw, 'artifactBucket') }, context.cwd);
        const { loadStackSettings } = await import('../config/settings-file.js');
        const { validateSettings } = await import('../config/validation.js');
        const settings = await loadStackSettings(context.settingsFile);
        validateSettings(settings);
        const s3 = options.artifactBucket === undefined ? undefined : (await context.clients()).s3;
        const { exportStack } = await import('../operations/export.js');
        const result = await exportStack({ settings, format: options.format, outDir: options.outDir, artifactBucket: options.artifactBucket, s3, output: context.output });
        const { renderExport } = await import('../ui/export.js');
        renderExport(result, context.output);
        return { exitCode: ExitCode.Ok, result };
      }),
    );
}
