import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { REPO_ROOT } from './corpus.js';

/**
 * Bundles live under node_modules/.cache so that `sharp` and `jimp`, left external, resolve from the
 * project's node_modules exactly as they do for the CLI.
 */
export const BUNDLE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'img-resizer-bench');

export const IMAGE_CORE_FILE = path.join(REPO_ROOT, 'lambda-src', 'core', 'image.ts');
export const SIZES_FILE = path.join(REPO_ROOT, 'lambda-src', 'core', 'sizes.ts');
export const SETTINGS_FILE = path.join(REPO_ROOT, 'lambda-src', 'core', 'settings.ts');
export const PROCESS_RECORD_FILE = path.join(REPO_ROOT, 'lambda-src', 'core', 'process-record.ts');
export const PROGRESSIVE_FILE = path.join(REPO_ROOT, 'lambda-src', 'core', 'jpeg', 'progressive.ts');

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['sharp', 'jimp'],
  logLevel: 'silent',
  // Bundled CommonJS dependencies call require(); an ESM bundle needs one made for it.
  banner: { js: "import { createRequire as __benchCreateRequire } from 'node:module'; const require = __benchCreateRequire(import.meta.url);" },
};

/** The Node.js worker as plain JavaScript. */
export async function bundleWorker(): Promise<string> {
  await mkdir(BUNDLE_DIR, { recursive: true });
  const outfile = path.join(BUNDLE_DIR, 'image-worker.mjs');
  await build({ ...COMMON, entryPoints: [path.join(REPO_ROOT, 'bench', 'workers', 'image-worker.ts')], outfile });
  return outfile;
}

/**
 * The image core (processImage, parseSizeSpec, the default limits, processRecord for the cost model and the DC-scan
 * switch, from lambda-src/core) as one module, sharp external, the
 * way the function bundle holds it. Throws with the reason when the core is missing or does not build.
 */
export async function bundleImageCore(): Promise<string> {
  for (const file of [IMAGE_CORE_FILE, SIZES_FILE, SETTINGS_FILE, PROCESS_RECORD_FILE, PROGRESSIVE_FILE]) {
    if (!existsSync(file)) throw new Error(`${path.relative(REPO_ROOT, file)} does not exist yet`);
  }
  await mkdir(BUNDLE_DIR, { recursive: true });
  const outfile = path.join(BUNDLE_DIR, 'image-core.mjs');
  await build({
    ...COMMON,
    stdin: {
      contents: [
        `export { processImage } from ${JSON.stringify(IMAGE_CORE_FILE)};`,
        `export { parseSizeSpec } from ${JSON.stringify(SIZES_FILE)};`,
        `export { DEFAULT_MAX_PIXELS, DEFAULT_MAX_BYTES, loadFunctionSettings, RUNTIME_TUNING_ENV } from ${JSON.stringify(SETTINGS_FILE)};`,
        `export { processRecord } from ${JSON.stringify(PROCESS_RECORD_FILE)};`,
        `export { setDcScanDecoding } from ${JSON.stringify(PROGRESSIVE_FILE)};`,
        '',
      ].join('\n'),
      resolveDir: REPO_ROOT,
      loader: 'ts',
      sourcefile: 'bench-image-core.ts',
    },
    outfile,
  });
  return outfile;
}
