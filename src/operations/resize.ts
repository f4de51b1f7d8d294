import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { ImageError, InvalidSettingError } from '../../lambda-src/core/errors.js';
import { processImage } from '../../lambda-src/core/image.js';
import { outputKeyFor } from '../../lambda-src/core/keys.js';
import {
  BACKGROUND_RULE,
  DEFAULT_BACKGROUND,
  DEFAULT_FIT,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_PIXELS,
  DEFAULT_OUTPUT_FORMAT,
  type FitMode,
  type OutputFormat,
} from '../../lambda-src/core/settings.js';
import { DEFAULT_SIZE_SPEC, parseSizeSpec, type SizeSpec } from '../../lambda-src/core/sizes.js';
import type { AppContext } from '../context.js';
import { ExitCode, UsageError, errorMessage } from '../errors.js';
import { expandUploadPaths } from './upload-plan.js';

export interface ResizeOptions {
  /** Directory the outputs are written under (created when missing). */
  out: string;
  /** Size spec; default thumbnail=200x200. */
  sizes?: string | undefined;
  format?: OutputFormat | undefined;
  fit?: FitMode | undefined;
  quality?: number | undefined;
  allowUpscale?: boolean | undefined;
  maxPixels?: number | undefined;
  maxBytes?: number | undefined;
  /** What transparent pixels become in JPEG outputs (a CSS name or #rrggbb); default the stack's, else white. */
  background?: string | undefined;
}

export interface ResizedOutput {
  size: string;
  /** The object key the function would write for this file (relative to --out). */
  key: string;
  /** Path of the file written. */
  file: string;
  width: number;
  height: number;
  bytes: number;
  format: string;
}

export interface ResizeFileResult {
  /** The source as given (relative to the working directory when inside it). */
  source: string;
  /** The source's name relative to its argument: the key it would have if uploaded. */
  key: string;
  status: 'SUCCEEDED' | 'FAILED';
  original?: { format: string; width: number; height: number; bytes: number };
  outputs: ResizedOutput[];
  error?: { code: string; message: string };
}

export interface ResizeReport {
  exitCode: ExitCode;
  /** How many files succeeded and failed. */
  succeeded: number;
  failed: number;
  outDir: string;
  results: ResizeFileResult[];
  /** Every file written. */
  files: string[];
}

/**
 * Runs the function's image core on local files: each output goes under `out` at the key the function would
 * give it, so `resize` shows exactly what an upload will produce. A file that is not a usable image is
 * reported and the others still run; the exit code is 1 when any failed. `context.output` shows progress only;
 * ui/resize.ts renders the report.
 */
export async function runResize(context: AppContext, paths: readonly string[], options: ResizeOptions): Promise<ResizeReport> {
  const { output } = context;
  // The stack's own settings when a settings file is here, so the preview matches what the function makes;
  // flags override them. A file with a bad value stops here (exit 2, naming the key), as for every command.
  const stack = await context.readSettings();
  const sizes = parseSizes(options.sizes ?? stack?.sizes ?? DEFAULT_SIZE_SPEC);
  const format = options.format ?? stack?.format ?? DEFAULT_OUTPUT_FORMAT;
  const fit = options.fit ?? stack?.fit ?? DEFAULT_FIT;
  const maxBytes = options.maxBytes ?? stack?.maxBytes ?? DEFAULT_MAX_BYTES;
  const quality = options.quality ?? stack?.quality;
  const backgroundText = options.background ?? stack?.background ?? DEFAULT_BACKGROUND;
  const background = BACKGROUND_RULE.parse(backgroundText);
  const outDir = path.resolve(context.cwd, options.out);
  // Earlier outputs under --out are not inputs: `resize . --out thumbs` twice must not resize the thumbnails.
  const inside = (file: string): boolean => !path.relative(outDir, file).startsWith('..') && !path.isAbsolute(path.relative(outDir, file));
  const entries = (await expandUploadPaths(paths, { cwd: context.cwd, prefix: '' })).filter((entry) => !inside(entry.file));
  // Every file is judged by the core, as the function judges it: one SVG, PPM or damaged PNG gets the same
  // UNSUPPORTED_FORMAT or CORRUPT_IMAGE alone as in a batch. Only no files at all is a mistake in the command line.
  if (entries.length === 0) {
    throw new UsageError(
      `No files to resize in ${paths.join(' ')} (outside ${options.out}).`,
      'Give image files (JPEG, PNG, WebP, GIF, AVIF or TIFF), directories holding them, or a quoted glob such as "photos/*.jpg".',
    );
  }
  await prepareOutDir(outDir, options.out);

  // Two sources can meet at one output when the extension changes (a.jpg and a.png, both as png).
  const claimed = new Map<string, string>();
  const limit = pLimit(Math.max(1, Math.min(4, os.availableParallelism())));
  const progress = entries.length > 1 ? output.progress('Resizing', entries.length) : undefined;
  const results = await Promise.all(
    entries.map((entry) =>
      limit(async (): Promise<ResizeFileResult> => {
        const result: ResizeFileResult = { source: entry.display, key: entry.key, status: 'FAILED', outputs: [] };
        try {
          const { size: bytes } = await stat(entry.file);
          if (bytes > maxBytes) throw new ImageError('TOO_LARGE', `The file has ${bytes} bytes; the limit is ${maxBytes}.`);
          const processed = await processImage(await readFile(entry.file), {
            sizes,
            format,
            fit,
            maxPixels: options.maxPixels ?? stack?.maxPixels ?? DEFAULT_MAX_PIXELS,
            maxBytes,
            allowUpscale: options.allowUpscale ?? stack?.allowUpscale ?? false,
            quality,
            background,
          });
          const { original } = processed;
          result.original = { format: original.format, width: original.width, height: original.height, bytes: original.bytes };
          const planned = processed.outputs.map((made) => {
            const key = outputKeyFor(entry.key, made.size, sizes.length, made.format, original.format);
            return { made, key, file: path.join(outDir, ...key.split('/')) };
          });
          for (const { file } of planned) {
            const owner = claimed.get(file);
            if (owner !== undefined && owner !== entry.display) {
              throw new UsageError(`${entry.display} and ${owner} would both be written to ${path.relative(context.cwd, file)}.`);
            }
          }
          for (const { file } of planned) claimed.set(file, entry.display);
          for (const { made, key, file } of planned) {
            await mkdir(path.dirname(file), { recursive: true });
            await writeFile(file, made.body);
            result.outputs.push({ size: made.size.name, key, file, width: made.width, height: made.height, bytes: made.bytes, format: made.format });
          }
          result.status = 'SUCCEEDED';
        } catch (error) {
          const code = error instanceof ImageError ? error.code : error instanceof UsageError ? 'OUTPUT_CONFLICT' : ioCode(error);
          // Node's own messages already start with their code ("ENOENT: no such file ..."): say it once.
          const message = errorMessage(error).replace(new RegExp(`^${code}: `), '');
          result.error = { code, message };
        }
        progress?.tick();
        return result;
      }),
    ),
  );
  progress?.stop();

  const failed = results.filter((r) => r.status === 'FAILED').length;
  const exitCode = failed > 0 ? ExitCode.Failed : ExitCode.Ok;
  const files = results.flatMap((r) => r.outputs.map((o) => o.file));
  return { exitCode, outDir, succeeded: results.length - failed, failed, results, files };
}

/** --out must be a directory we can write to; made here so a bad path is one clear error, not one per file. */
async function prepareOutDir(outDir: string, given: string): Promise<void> {
  const existing = await stat(outDir).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new UsageError(`--out ${given} is a file, not a directory.`, 'Give a directory (it is created when missing).');
  }
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new UsageError(`--out ${given}: cannot create the directory (${errorMessage(error)}).`, 'Give a directory you can write to.');
  }
}

function parseSizes(spec: string): SizeSpec[] {
  try {
    return parseSizeSpec(spec);
  } catch (error) {
    if (error instanceof InvalidSettingError) throw new UsageError(`--sizes: ${error.message}`, 'Example: --sizes thumb=200x200,medium=800x800');
    throw error;
  }
}

function ioCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}


