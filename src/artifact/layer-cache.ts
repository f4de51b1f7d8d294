import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Output } from '../ui/output.js';
import { sha256Hex } from './zip.js';
import type { LambdaArch } from './layer.js';
import { sharpPlatform } from './layer-npm.js';

/** The layer cache: one directory per sharp version, architecture and recipe, holding the zip and its record. */

/**
 * Bump when the layer's recipe (npm flags, what is dropped) changes, so cached layers built by the
 * old recipe are not reused.
 */
export const LAYER_RECIPE = 1;
/** Where Lambda's Node.js runtimes look in a layer: /opt/nodejs/node_modules is on NODE_PATH. */
export const LAYER_PREFIX = 'nodejs/node_modules';

export interface CacheRecord {
  recipe: number;
  sharpVersion: string;
  arch: LambdaArch;
  packages: string[];
  sha256: string;
  size: number;
  unzippedSize: number;
  entryCount: number;
}

/** The cache directory of one layer build (per sharp version, architecture and recipe). */
export function layerCacheDir(root: string, sharpVersion: string, arch: LambdaArch, packages: readonly string[]): string {
  const recipe = createHash('sha256').update(JSON.stringify({ LAYER_RECIPE, packages })).digest('hex').slice(0, 10);
  return path.join(root, 'layers', `sharp-${sharpVersion}-${sharpPlatform(arch)}-glibc-${recipe}`);
}


export async function readCachedLayer(zipPath: string, recordPath: string, output?: Output): Promise<{ bytes: Buffer; record: CacheRecord } | undefined> {
  let record: CacheRecord;
  let bytes: Buffer;
  try {
    record = JSON.parse(await readFile(recordPath, 'utf8')) as CacheRecord;
    bytes = await readFile(zipPath);
  } catch {
    return undefined;
  }
  if (record.recipe !== LAYER_RECIPE || sha256Hex(bytes) !== record.sha256) {
    output?.warn(`Ignoring a damaged cached layer at ${zipPath}; building it again.`);
    return undefined;
  }
  return { bytes, record };
}

/** Zip first, record last, each renamed into place: a reader sees a whole pair or no record. */
export async function writeCache(dir: string, zipPath: string, recordPath: string, bytes: Buffer, record: CacheRecord, output?: Output): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const suffix = `.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
    await writeFile(zipPath + suffix, bytes);
    await rename(zipPath + suffix, zipPath);
    await writeFile(recordPath + suffix, `${JSON.stringify(record, null, 2)}\n`);
    await rename(recordPath + suffix, recordPath);
  } catch (error) {
    // A read-only cache costs the next build a reinstall, nothing more.
    output?.warn(`Could not cache the sharp layer in ${dir}: ${errorMessage(error)}`);
  }
}

