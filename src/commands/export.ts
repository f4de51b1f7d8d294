import path from 'node:path';
import { Command, Option } from 'commander';
import { bucketNameProblem, loadStackSettings, validateSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export/template.js';
import { action, parseChoice } from './shared.js';

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
      action(async (context: AppContext, raw: { format: ExportFormat; out: string; artifactBucket?: string }) => {
        const options = exportOptions(raw, context.cwd);
        const settings = await loadStackSettings(context.settingsFile);
        validateSettings(settings);
        const s3 = options.artifactBucket === undefined ? undefined : (await context.clients()).s3;
        const { exportStack } = await import('../operations/export.js');
        const result = await exportStack({ settings, format: options.format, outDir: options.outDir, artifactBucket: options.artifactBucket, s3, output: context.output });
        const { renderExport } = await import('../ui/export.js');
        renderExport(result, context.output);
        return ExitCode.Ok;
      }),
    );
}
