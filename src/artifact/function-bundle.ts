import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { CliError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { defaultRuntime, runtimeInfo, type LambdaRuntime } from '../runtimes.js';

/** The file name inside the function zip; the handler setting is therefore `index.handler`. */
export const FUNCTION_FILE = 'index.mjs';
/** Relative to the package root. */
export const DEFAULT_FUNCTION_ENTRY = 'lambda-src/index.ts';

export interface BundleOptions {
  /** Put a source map beside the code (index.mjs.map) and reference it from the code. */
  sourcemap?: boolean;
  /** Entry file, absolute or relative to the package root; default lambda-src/index.ts. */
  entry?: string;
  /** The Lambda runtime the code will run on; sets esbuild's target (nodejs22.x: node22). Default defaultRuntime(). */
  runtime?: LambdaRuntime;
}

export interface BundleInput {
  /** Path relative to the package root (node_modules/@aws-sdk/..., lambda-src/...). */
  path: string;
  bytesInOutput: number;
}

export interface FunctionBundle {
  /** The bundled index.mjs. */
  code: Buffer;
  /** esbuild's target it was built for (the runtime's Node major, e.g. node24). */
  target: string;
  /** index.mjs.map, when asked for. */
  map?: Buffer;
  /** The inputs that contribute most to the bundle, largest first (to explain a surprising size). */
  largestInputs: BundleInput[];
}

/*
 * esbuild turns the CommonJS modules among the dependencies into ESM that still calls `require` for
 * Node built-ins; an ESM file has no `require`, so the bundle defines one. The import is aliased so
 * it cannot clash with the handler's own `createRequire` import.
 */
const REQUIRE_BANNER =
  "import { createRequire as __imgResizerCreateRequire } from 'node:module'; const require = __imgResizerCreateRequire(import.meta.url);";

/**
 * Bundles the Lambda handler into one minified ESM file for a Lambda Node.js runtime (default Node.js 22). sharp stays
 * external (the layer provides it, native code and all); the AWS SDK is bundled, so the function runs
 * the SDK versions we test with and runs where no SDK is provided (the local stack).
 * The output is deterministic: paths are relative to the package root, no timestamps, no comments.
 */
export async function bundleFunction(options: BundleOptions = {}): Promise<FunctionBundle> {
  const root = packageRoot();
  const entry = path.resolve(root, options.entry ?? DEFAULT_FUNCTION_ENTRY);
  if (!existsSync(entry)) {
    throw new CliError('FUNCTION_SOURCE_MISSING', `The function source ${entry} does not exist.`, {
      suggestion: 'Run img-resizer from a complete checkout or installation (lambda-src/ ships with the package).',
    });
  }
  const target = runtimeInfo(options.runtime ?? defaultRuntime()).esbuildTarget;
  let result;
  try {
    result = await build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: FUNCTION_FILE,
      write: false,
      bundle: true,
      platform: 'node',
      target,
      format: 'esm',
      // Prefer the ESM builds of dependencies (the AWS SDK ships both): they tree-shake better.
      mainFields: ['module', 'main'],
      external: ['sharp'],
      // An entry outside the package (tests, a custom handler) still resolves our dependencies.
      nodePaths: [path.join(root, 'node_modules')],
      minify: true,
      legalComments: 'none',
      charset: 'utf8',
      banner: { js: REQUIRE_BANNER },
      sourcemap: options.sourcemap ? 'linked' : false,
      sourcesContent: true,
      metafile: true,
      logLevel: 'silent',
    });
  } catch (error) {
    const messages = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const detail = messages
      .slice(0, 5)
      .map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text))
      .join('\n');
    throw new CliError('FUNCTION_BUNDLE_FAILED', `Bundling the function (${path.relative(root, entry)}) failed:\n${detail || String(error)}`, { cause: error });
  }
  let code: Buffer | undefined;
  let map: Buffer | undefined;
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.map')) map = Buffer.from(file.contents);
    else code = Buffer.from(file.contents);
  }
  if (code === undefined) throw new CliError('FUNCTION_BUNDLE_FAILED', 'esbuild produced no output for the function.');
  return { code, target, ...(map === undefined ? {} : { map }), largestInputs: largestInputs(result.metafile) };
}

function largestInputs(metafile: Metafile, count = 10): BundleInput[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined) ?? Object.values(metafile.outputs)[0];
  if (!output) return [];
  return Object.entries(output.inputs)
    .map(([input, info]) => ({ path: input, bytesInOutput: info.bytesInOutput }))
    .sort((a, b) => b.bytesInOutput - a.bytesInOutput || a.path.localeCompare(b.path))
    .slice(0, count);
}
