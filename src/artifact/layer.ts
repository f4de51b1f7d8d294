import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Architecture } from '../constants.js';
import { cacheDir } from '../paths.js';
import type { Output } from '../ui/output.js';
import { deterministicZip, lambdaCodeSha256, sha256Hex } from './zip.js';
import { LAYER_RECIPE, layerCacheDir, readCachedLayer, writeCache, type CacheRecord } from './layer-cache.js';
import { layerEntries } from './layer-files.js';
import { npmInstall, sharpPlatform, verifyInstall } from './layer-npm.js';
import { pinnedSharpDependencies, pinnedSharpVersion } from './layer-pinning.js';

// The layer build is split by job (architecture pass): pinning, cache, npm, file filter and tree walk live next
// to this file; the names importers use stay importable from here.
export { layerCacheDir } from './layer-cache.js';
export { keepInLayer } from './layer-files.js';
export { npmCpu, sharpPlatform } from './layer-npm.js';
export { pinnedSharpVersion } from './layer-pinning.js';

/** Lambda's architecture names (defined in src/constants.ts). */
export type LambdaArch = Architecture;


export interface LayerArtifact {
  arch: LambdaArch;
  sharpVersion: string;
  /** The layer zip. */
  bytes: Buffer;
  size: number;
  /** Hex SHA-256 of the zip. */
  sha256: string;
  /** Base64 SHA-256, as Lambda reports a layer version's Content.CodeSha256. */
  codeSha256: string;
  /** Sum of the uncompressed entry sizes. */
  unzippedSize: number;
  entryCount: number;
  /** Served from the cache rather than installed now. */
  fromCache: boolean;
  /** The cached zip. */
  cachePath: string;
  /** A layer-version Description that identifies this exact zip (see layerDescription). */
  description: string;
}

/**
 * The Description `init` gives the layer version it publishes, so the next run can tell whether the
 * latest version already holds these bytes: `sharp 0.35.5 linux-x64 glibc sha256:<hex>`.
 */
export function layerDescription(sharpVersion: string, arch: LambdaArch, sha256: string): string {
  return `sharp ${sharpVersion} ${sharpPlatform(arch)} glibc sha256:${sha256}`;
}

export function parseLayerDescription(description: string | undefined): { sharpVersion: string; platform: string; sha256: string } | undefined {
  const match = /^sharp (\S+) (linux-\w+) glibc sha256:([0-9a-f]{64})$/.exec(description ?? '');
  if (!match) return undefined;
  const [, sharpVersion = '', platform = '', sha256 = ''] = match;
  return { sharpVersion, platform, sha256 };
}

export interface BuildLayerOptions {
  arch: LambdaArch;
  output?: Output;
  /** Cache root; default the user's cache directory. */
  cacheDir?: string;
  /** Install afresh even when a cached layer exists (the result replaces the cache). */
  fresh?: boolean;
  /** Environment for npm (tests point the registry and npm's cache elsewhere). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The sharp layer for Lambda's Linux (glibc) on one architecture: `nodejs/node_modules/` with sharp,
 * its `@img/sharp-linux-*` and `@img/sharp-libvips-linux-*` packages and its JavaScript dependencies,
 * installed by npm for that platform whatever the host's. Cached per sharp version and architecture;
 * without a registry the cache serves, or a CliError says what is missing.
 */
export async function buildSharpLayer(options: BuildLayerOptions): Promise<LayerArtifact> {
  const { arch, output } = options;
  const sharpVersion = pinnedSharpVersion();
  const packages = [`sharp@${sharpVersion}`, ...pinnedSharpDependencies(sharpVersion)];
  const dir = layerCacheDir(options.cacheDir ?? cacheDir(), sharpVersion, arch, packages);
  const zipPath = path.join(dir, 'layer.zip');
  const recordPath = path.join(dir, 'layer.json');

  if (!options.fresh) {
    const cached = await readCachedLayer(zipPath, recordPath, output);
    if (cached) {
      output?.debug(`sharp layer ${sharpPlatform(arch)} from the cache: ${zipPath}`);
      return artifact(cached.bytes, cached.record, zipPath, true);
    }
  }

  const task = output?.task(`Installing sharp ${sharpVersion} for ${sharpPlatform(arch)} (glibc) with npm`);
  let bytes: Buffer;
  let entryCount: number;
  let unzipped: number;
  const installDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-layer-'));
  try {
    await npmInstall(installDir, arch, packages, options.env ?? process.env, dir);
    const nodeModules = path.join(installDir, 'node_modules');
    await verifyInstall(nodeModules, arch, sharpVersion);
    const entries = await layerEntries(nodeModules, output);
    entryCount = entries.length;
    unzipped = entries.reduce((sum, e) => sum + (e.data as Buffer).length, 0);
    bytes = await deterministicZip(entries);
    task?.succeed(`Built the sharp ${sharpVersion} layer for ${sharpPlatform(arch)}`);
  } catch (error) {
    task?.fail();
    throw error;
  } finally {
    await rm(installDir, { recursive: true, force: true });
  }

  const record: CacheRecord = {
    recipe: LAYER_RECIPE,
    sharpVersion,
    arch,
    packages,
    sha256: sha256Hex(bytes),
    size: bytes.length,
    unzippedSize: unzipped,
    entryCount,
  };
  await writeCache(dir, zipPath, recordPath, bytes, record, output);
  return artifact(bytes, record, zipPath, false);
}

function artifact(bytes: Buffer, record: CacheRecord, cachePath: string, fromCache: boolean): LayerArtifact {
  return {
    arch: record.arch,
    sharpVersion: record.sharpVersion,
    bytes,
    size: bytes.length,
    sha256: record.sha256,
    codeSha256: lambdaCodeSha256(bytes),
    unzippedSize: record.unzippedSize,
    entryCount: record.entryCount,
    fromCache,
    cachePath,
    description: layerDescription(record.sharpVersion, record.arch, record.sha256),
  };
}
