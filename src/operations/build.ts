import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildArtifacts, type Artifact, type BuildResult } from '../artifact/build.js';
import { measureColdImport, unpackForLambda } from '../artifact/lambda-layout.js';
import { readSettingsFile, stackRuntime } from '../config/settings.js';
import { defaultRuntime, isLambdaRuntime, type LambdaRuntime } from '../runtimes.js';
import { ARCHITECTURES, DEFAULT_BUILD_DIR, FUNCTION_HANDLER, hostLambdaArchitecture, type Architecture } from '../constants.js';
import { ExitCode } from '../errors.js';
import type { Output } from '../ui/output.js';

type LambdaArch = Architecture;


export interface BuildCommandOptions {
  arch: LambdaArch;
  /** The Lambda runtime the bundle targets (esbuild's target); default defaultRuntime(). */
  runtime?: LambdaRuntime | undefined;
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
  /** The Lambda runtime the bundle targets. */
  runtime: LambdaRuntime;
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
  /** Why the import was not timed although --measure-import asked for it. */
  coldImportSkipped?: string;
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

/**
 * Writes function.zip and sharp-layer-<arch>.zip and reports their sizes and hashes; `output` only shows progress
 * (spinners while bundling and installing), the report is rendered by ui/build.ts.
 */
export async function runBuild(options: BuildCommandOptions, output?: Output): Promise<{ report: BuildReport; result: BuildResult; exitCode: ExitCode }> {
  const started = performance.now();
  const outDir = path.resolve(options.cwd ?? process.cwd(), options.out ?? DEFAULT_BUILD_DIR);
  const runtime = options.runtime ?? defaultRuntime();
  const result = await buildArtifacts({
    arch: options.arch,
    runtime,
    outDir,
    ...(output ? { output } : {}),
    ...(options.sourcemap ? { sourcemap: true } : {}),
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  const durationMs = Math.round(performance.now() - started);
  const buildReport: BuildReport = {
    arch: result.arch,
    runtime,
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
    if (hostLambdaArchitecture() === options.arch) {
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
      buildReport.coldImportSkipped = `this host cannot load the ${options.arch} layer`;
    }
  }
  return { report: buildReport, result, exitCode: ExitCode.Ok };
}

/** The stack's own architecture when there is a settings file, so `build` makes what `init` deploys. */
export async function defaultBuildArch(settingsFile: string): Promise<LambdaArch> {
  const settings = await readSettingsFile(settingsFile).catch(() => undefined);
  const arch = settings?.arch;
  return ARCHITECTURES.find((known) => known === arch) ?? 'x86_64';
}

/** The stack's own runtime when there is a settings file (so `build` makes what `init` deploys), else the default. */
export async function defaultBuildRuntime(settingsFile: string): Promise<LambdaRuntime> {
  const settings = await readSettingsFile(settingsFile).catch(() => undefined);
  if (settings === undefined) return defaultRuntime();
  const recorded: unknown = settings.runtime;
  if (recorded === undefined) return stackRuntime(settings);
  // A value init would refuse: build for the default, init says what is wrong with the file.
  return typeof recorded === 'string' && isLambdaRuntime(recorded) ? recorded : defaultRuntime();
}
