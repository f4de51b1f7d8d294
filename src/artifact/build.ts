import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../errors.js';
import { formatBytes } from '../ui/bytes.js';
import type { Output } from '../ui/output.js';
import { bundleFunction, FUNCTION_FILE, type BundleInput } from './function-bundle.js';
import { buildSharpLayer, type LambdaArch } from './layer.js';
import { defaultRuntime, type LambdaRuntime } from '../runtimes.js';
import { deterministicZip, lambdaCodeSha256, sha256Hex, type ZipEntryInput } from './zip.js';

export interface Artifact {
  /** File name: function.zip or sharp-layer-<arch>.zip. */
  name: string;
  /** Where it was written, when an output directory was given. */
  path?: string;
  bytes: Buffer;
  size: number;
  /** Hex SHA-256 of the zip. */
  sha256: string;
  /** Base64 SHA-256: Lambda's CodeSha256, to compare with GetFunction's. */
  codeSha256: string;
  /** Sum of the uncompressed entry sizes. */
  unzippedSize: number;
}

export interface LayerBuildInfo {
  /** Served from the cache rather than installed now. */
  fromCache: boolean;
  /** The Description for the layer version (`sharp <v> linux-<cpu> glibc sha256:<hex>`). */
  description: string;
  /** The cached copy under the user's cache directory. */
  cachePath: string;
}

export interface BuildResult {
  functionZip: Artifact;
  layerZip: Artifact & LayerBuildInfo;
  sharpVersion: string;
  arch: LambdaArch;
  /** The bundle's largest inputs, to explain its size. */
  largestInputs: BundleInput[];
}

export interface BuildOptions {
  arch: LambdaArch;
  /** The Lambda runtime the function will run on (esbuild's target); default defaultRuntime(). */
  runtime?: LambdaRuntime | undefined;
  /** Write function.zip and sharp-layer-<arch>.zip here. */
  outDir?: string;
  /** Ship index.mjs.map in the function zip (and reference it from index.mjs). */
  sourcemap?: boolean;
  output?: Output;
  /** Cache root for the layer; default the user's cache directory. */
  cacheDir?: string;
  /** Entry of the function; default lambda-src/handler.ts. */
  entry?: string;
}

const MB = 1024 * 1024;
/** Our own ceiling for the function zip: far above the target (under 1 MB), far below Lambda's 50 MB. */
export const MAX_FUNCTION_ZIP_BYTES = 5 * MB;
/** Lambda's limit for a zip uploaded directly (function or layer). */
export const MAX_LAYER_ZIP_BYTES = 50 * MB;
/** Lambda's limit for the function and all its layers, unzipped. */
export const MAX_UNZIPPED_BYTES = 250 * MB;
/** Above this the bundle is surprising, and the build says what is in it. */
const FUNCTION_TARGET_BYTES = 1 * MB;

export const FUNCTION_ZIP_NAME = 'function.zip';
export function layerZipName(arch: LambdaArch): string {
  return `sharp-layer-${arch}.zip`;
}


/** The function zip: index.mjs (and index.mjs.map when asked for), nothing else. */
export async function buildFunctionZip(
  options: { sourcemap?: boolean; entry?: string; runtime?: LambdaRuntime | undefined } = {},
): Promise<{ artifact: Artifact; largestInputs: BundleInput[] }> {
  const bundle = await bundleFunction({
    ...(options.sourcemap ? { sourcemap: true } : {}),
    ...(options.entry ? { entry: options.entry } : {}),
    runtime: options.runtime ?? defaultRuntime(),
  });
  const entries: ZipEntryInput[] = [{ path: FUNCTION_FILE, data: bundle.code }];
  if (bundle.map) entries.push({ path: `${FUNCTION_FILE}.map`, data: bundle.map });
  const bytes = await deterministicZip(entries);
  const unzippedSize = bundle.code.length + (bundle.map?.length ?? 0);
  return { artifact: describe(FUNCTION_ZIP_NAME, bytes, unzippedSize), largestInputs: bundle.largestInputs };
}

function describe(name: string, bytes: Buffer, unzippedSize: number): Artifact {
  return { name, bytes, size: bytes.length, sha256: sha256Hex(bytes), codeSha256: lambdaCodeSha256(bytes), unzippedSize };
}

/**
 * Builds both deployment artifacts: the function zip and the sharp layer for `arch`. Fails, naming
 * the offender, when either would break Lambda's size limits. Same sources, same bytes.
 */
export async function buildArtifacts(options: BuildOptions): Promise<BuildResult> {
  const { arch, output } = options;
  // One after the other: two spinners at once garble a terminal, and bundling takes under a second.
  const bundling = output?.task('Bundling the function with esbuild');
  let fn: Awaited<ReturnType<typeof buildFunctionZip>>;
  try {
    fn = await buildFunctionZip({ ...(options.sourcemap ? { sourcemap: true } : {}), ...(options.entry ? { entry: options.entry } : {}), runtime: options.runtime });
  } catch (error) {
    bundling?.fail();
    throw error;
  }
  bundling?.succeed(`Bundled the function for ${options.runtime ?? defaultRuntime()}: ${formatBytes(fn.artifact.size)} zipped`);
  const layer = await buildSharpLayer({ arch, ...(output ? { output } : {}), ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });

  const functionZip = fn.artifact;
  const layerZip: Artifact & LayerBuildInfo = {
    ...describe(layerZipName(arch), layer.bytes, layer.unzippedSize),
    fromCache: layer.fromCache,
    description: layer.description,
    cachePath: layer.cachePath,
  };
  checkSizes(functionZip, layerZip, fn.largestInputs);
  if (functionZip.size > FUNCTION_TARGET_BYTES) {
    output?.warn(
      `The function zip is ${formatBytes(functionZip.size)} (target under 1 MB). Largest inputs:\n` +
        fn.largestInputs.map((i) => `  ${formatBytes(i.bytesInOutput).padStart(9)}  ${i.path}`).join('\n'),
    );
  }

  if (options.outDir !== undefined) {
    await mkdir(options.outDir, { recursive: true });
    for (const artifact of [functionZip, layerZip]) {
      artifact.path = path.resolve(options.outDir, artifact.name);
      // Renamed into place so a concurrent reader never sees half a zip.
      const partial = `${artifact.path}.${process.pid}.partial`;
      await writeFile(partial, artifact.bytes);
      await rename(partial, artifact.path);
    }
  }
  return { functionZip, layerZip, sharpVersion: layer.sharpVersion, arch, largestInputs: fn.largestInputs };
}

/** Lambda's limits, checked before anything is uploaded. */
export function checkSizes(functionZip: Artifact, layerZip: Artifact, largestInputs: BundleInput[] = []): void {
  if (functionZip.size > MAX_FUNCTION_ZIP_BYTES) {
    const top = largestInputs.slice(0, 5).map((i) => `${i.path} (${formatBytes(i.bytesInOutput)})`).join(', ');
    throw new CliError(
      'ARTIFACT_TOO_LARGE',
      `${functionZip.name} is ${formatBytes(functionZip.size)}, over the ${formatBytes(MAX_FUNCTION_ZIP_BYTES)} limit for the function zip.`,
      { suggestion: top ? `Its largest inputs: ${top}. Is something bundled that should stay external?` : 'Check what the handler imports.' },
    );
  }
  if (layerZip.size > MAX_LAYER_ZIP_BYTES) {
    throw new CliError('ARTIFACT_TOO_LARGE', `${layerZip.name} is ${formatBytes(layerZip.size)}, over Lambda's ${formatBytes(MAX_LAYER_ZIP_BYTES)} limit for a zip upload.`, {
      suggestion: 'Check which packages npm put into the layer (run with --debug).',
    });
  }
  const unzipped = functionZip.unzippedSize + layerZip.unzippedSize;
  if (unzipped > MAX_UNZIPPED_BYTES) {
    const offender = functionZip.unzippedSize > layerZip.unzippedSize ? functionZip : layerZip;
    throw new CliError(
      'ARTIFACT_TOO_LARGE',
      `The function and layer come to ${formatBytes(unzipped)} unzipped, over Lambda's ${formatBytes(MAX_UNZIPPED_BYTES)} limit; the larger is ${offender.name} (${formatBytes(offender.unzippedSize)}).`,
    );
  }
}
