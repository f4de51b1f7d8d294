import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { readSettingsFile } from '../config/settings.js';
import { buildArtifacts, formatBytes, type Artifact, type BuildResult } from '../artifact/build.js';
import { FUNCTION_HANDLER } from '../artifact/function-bundle.js';
import { LAMBDA_ARCHES, type LambdaArch } from '../artifact/layer.js';
import { measureColdImport, unpackForLambda } from '../artifact/lambda-layout.js';
import { renderTable, type Output } from '../ui/output.js';
import { action, parseChoice } from './shared.js';

export const DEFAULT_BUILD_DIR = 'build';

export interface BuildCommandOptions {
  arch: LambdaArch;
  /** Output directory, absolute or relative to `cwd`. */
  out?: string;
  sourcemap?: boolean;
  /** Also time a cold import of the bundled handler with sharp (host architecture only). */
  measureImport?: boolean;
  cwd?: string;
  /** Layer cache root (tests); default the user's cache directory. */
  cacheDir?: string;
}

export interface BuildReport {
  arch: LambdaArch;
  sharpVersion: string;
  handler: string;
  outDir: string;
  artifacts: ArtifactReport[];
  layerDescription: string;
  layerFromCache: boolean;
  layerCachePath: string;
  durationMs: number;
  /** Milliseconds to import index.mjs and sharp in a fresh process (median of three), when measured. */
  coldImportMs?: number;
}

interface ArtifactReport {
  name: string;
  path: string;
  size: number;
  unzippedSize: number;
  sha256: string;
  codeSha256: string;
}

function report(artifact: Artifact): ArtifactReport {
  return {
    name: artifact.name,
    path: artifact.path ?? '',
    size: artifact.size,
    unzippedSize: artifact.unzippedSize,
    sha256: artifact.sha256,
    codeSha256: artifact.codeSha256,
  };
}

/** The architecture Lambda would run on the host, if it is one of Lambda's. */
function hostArch(): LambdaArch | undefined {
  if (process.platform !== 'linux') return undefined;
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'arm64';
  return undefined;
}

/** Writes function.zip and sharp-layer-<arch>.zip and reports their sizes and hashes. */
export async function runBuild(options: BuildCommandOptions, output: Output): Promise<{ report: BuildReport; result: BuildResult; exitCode: ExitCode }> {
  const started = performance.now();
  const outDir = path.resolve(options.cwd ?? process.cwd(), options.out ?? DEFAULT_BUILD_DIR);
  const result = await buildArtifacts({
    arch: options.arch,
    outDir,
    output,
    ...(options.sourcemap ? { sourcemap: true } : {}),
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  const durationMs = Math.round(performance.now() - started);
  const buildReport: BuildReport = {
    arch: result.arch,
    sharpVersion: result.sharpVersion,
    handler: FUNCTION_HANDLER,
    outDir,
    artifacts: [report(result.functionZip), report(result.layerZip)],
    layerDescription: result.layerZip.description,
    layerFromCache: result.layerZip.fromCache,
    layerCachePath: result.layerZip.cachePath,
    durationMs,
  };

  if (options.measureImport) {
    if (hostArch() === options.arch) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-import-'));
      try {
        const { taskDir, optDir } = await unpackForLambda(result.functionZip.bytes, result.layerZip.bytes, dir);
        const samples: number[] = [];
        for (let i = 0; i < 3; i += 1) samples.push(await measureColdImport(taskDir, optDir));
        buildReport.coldImportMs = Math.round(samples.sort((a, b) => a - b)[1] ?? 0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      output.warn(`Not timing the import: this host cannot load the ${options.arch} layer.`);
    }
  }
  return { report: buildReport, result, exitCode: ExitCode.Ok };
}

function printReport(buildReport: BuildReport, output: Output): void {
  const rows = buildReport.artifacts.map((a) => [a.name, formatBytes(a.size), formatBytes(a.unzippedSize), a.sha256]);
  output.info(renderTable(['artifact', 'zipped', 'unzipped', 'sha256'], rows));
  output.info('');
  output.info(`Written to ${buildReport.outDir} (the layer is also cached in ${path.dirname(buildReport.layerCachePath)})`);
  output.info(
    `sharp ${buildReport.sharpVersion} for Lambda ${buildReport.arch} (layer ${buildReport.layerFromCache ? 'from the cache' : 'installed now'}), handler ${buildReport.handler}, built in ${(buildReport.durationMs / 1000).toFixed(1)} s`,
  );
  if (buildReport.coldImportMs !== undefined) output.info(`Cold import of the handler with sharp: ${buildReport.coldImportMs} ms (median of 3 fresh processes)`);
}

async function defaultArch(context: AppContext): Promise<LambdaArch> {
  // The stack's own architecture when there is a settings file, so `build` makes what `init` deploys.
  const settings = await readSettingsFile(context.settingsFile).catch(() => undefined);
  const arch = settings?.arch;
  return arch !== undefined && (LAMBDA_ARCHES as readonly string[]).includes(arch) ? arch : 'x86_64';
}

export function buildCommand(): Command {
  return new Command('build')
    .description('bundle the function and build the sharp layer: writes function.zip and sharp-layer-<arch>.zip, prints sizes and SHA-256')
    .addOption(new Option('--arch <arch>', "Lambda architecture (default: the settings file's, else x86_64)").argParser(parseChoice('--arch', LAMBDA_ARCHES)))
    .option('--out <dir>', 'output directory', DEFAULT_BUILD_DIR)
    .option('--sourcemap', 'put index.mjs.map into the function zip')
    .option('--measure-import', 'also time a cold import of the bundled handler with sharp (host architecture only)')
    .action(
      action(async (context: AppContext, options: { arch?: LambdaArch; out: string; sourcemap?: boolean; measureImport?: boolean }) => {
        const arch = options.arch ?? (await defaultArch(context));
        const { report: buildReport, exitCode } = await runBuild(
          { arch, out: options.out, cwd: context.cwd, sourcemap: Boolean(options.sourcemap), measureImport: Boolean(options.measureImport) },
          context.output,
        );
        if (context.output.json) context.output.result(buildReport);
        else printReport(buildReport, context.output);
        return exitCode;
      }),
    );
}
