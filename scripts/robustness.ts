/**
 * `npm run robustness -- DIR [--json] [--no-reference]`: runs the function's image core over every file under
 * DIR (an image test suite, say) three ways, as the function would with its default settings, with two sizes
 * as WebP, and with `original`, and counts what issue 20 asks to be zero or accounted for:
 *
 *   crashes             an exception that is not an ImageError (the function would retry the event for nothing)
 *   refused valid       CORRUPT_IMAGE for a file the reference decoder (Pillow) decodes, other than for damage
 *                       the decoder reported (Pillow decodes damaged JPEGs without a word)
 *   unusual samples     an output written from signed, 32-bit or floating-point samples (they are refused; a
 *                       written one would be the clipped garbage the issue describes)
 *   damaged             decodes with damage the decoder reported: refused, as they must be
 *   with warnings       accepted files carrying their decoder warnings
 *   inconsistent        files whose outcome (code) differs between the three ways
 *
 * Exit status 1 when a count that must be zero is not. Refusals of files Pillow accepts that were reviewed and
 * judged invalid are listed with their reasons in scripts/robustness-reviewed-refusals.json (paths matched as a
 * suffix of the file's path under DIR): they are counted apart and do not fail the run; any other one does.
 * Files run one at a time: sharp reports decoder
 * warnings through one process-wide queue.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ensurePillow } from '../bench/lib/pillow.js';
import { describesDamage } from '../lambda-src/core/decoder-warnings.js';
import { ImageError } from '../lambda-src/core/errors.js';
import { processImage, type ProcessOptions } from '../lambda-src/core/image.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from '../lambda-src/core/settings.js';
import { sharp } from '../lambda-src/core/sharp.js';
import { parseSizeSpec, DEFAULT_SIZE_SPEC } from '../lambda-src/core/sizes.js';

type Way = 'default' | 'webp-two-sizes' | 'original';

const WAYS: Record<Way, Omit<ProcessOptions, 'maxPixels' | 'maxBytes'>> = {
  default: { sizes: parseSizeSpec(DEFAULT_SIZE_SPEC), format: 'png', fit: 'cover', allowUpscale: false },
  'webp-two-sizes': { sizes: parseSizeSpec('large=800x600,small=200x200'), format: 'webp', fit: 'inside', allowUpscale: false },
  original: { sizes: parseSizeSpec(DEFAULT_SIZE_SPEC), format: 'original', fit: 'cover', allowUpscale: false },
};

interface Outcome {
  code: string;
  message: string;
  warnings: string[];
}

export interface FileReport {
  file: string;
  outcomes: Record<Way, Outcome>;
  depth: string | undefined;
  reference: { ok: boolean; error?: string } | undefined;
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

async function run(bytes: Buffer, way: Way): Promise<Outcome> {
  try {
    const result = await processImage(bytes, { ...WAYS[way], maxPixels: DEFAULT_MAX_PIXELS, maxBytes: DEFAULT_MAX_BYTES });
    return { code: 'SUCCEEDED', message: '', warnings: result.original.warnings };
  } catch (error) {
    if (error instanceof ImageError) return { code: error.code, message: error.message, warnings: [] };
    return { code: 'CRASH', message: error instanceof Error ? (error.stack ?? error.message) : String(error), warnings: [] };
  }
}

async function sampleDepth(bytes: Buffer): Promise<string | undefined> {
  try {
    return (await sharp(bytes, { failOn: 'none', limitInputPixels: false }).metadata()).depth;
  } catch {
    return undefined;
  }
}

/** Pillow in a child process answering one path per line. */
async function referenceDecoder(): Promise<((file: string) => Promise<{ ok: boolean; error?: string }>) & { close(): void }> {
  const runtime = await ensurePillow((line) => process.stderr.write(`${line}\n`));
  const child = spawn(runtime.python, [path.join(import.meta.dirname, 'reference_decode.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const decode = (file: string): Promise<{ ok: boolean; error?: string }> =>
    new Promise((resolve) => {
      waiting.push((line) => {
        resolve(JSON.parse(line) as { ok: boolean; error?: string });
      });
      child.stdin.write(`${file}\n`);
    });
  return Object.assign(decode, { close: () => child.stdin.end() });
}

export interface Counts {
  files: number;
  crashes: number;
  refusedValid: number;
  unusualSampleOutputs: number;
  damagedRefused: number;
  acceptedWithWarnings: number;
  inconsistent: number;
  /** Refused files Pillow accepts that are on the reviewed list (judged invalid): they do not fail the run. */
  refusedReviewed: number;
  byCode: Record<string, number>;
}

const DISPLAYABLE = ['uchar', 'ushort'];

/** A refusal of a file the reference decoder accepts, reviewed and judged right (the file is invalid). */
export interface ReviewedRefusal {
  file: string;
  reason: string;
}

export const REVIEWED_REFUSALS_FILE = path.join(import.meta.dirname, 'robustness-reviewed-refusals.json');

export async function readReviewedRefusals(file = REVIEWED_REFUSALS_FILE): Promise<ReviewedRefusal[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { refusals?: unknown };
  const refusals = Array.isArray(parsed.refusals) ? (parsed.refusals as unknown[]) : [];
  return refusals.map((entry, i) => {
    const { file: name, reason } = (entry ?? {}) as { file?: unknown; reason?: unknown };
    if (typeof name !== 'string' || typeof reason !== 'string' || reason.trim() === '') throw new Error(`${file}: entry ${i} needs a file and a reason`);
    return { file: name, reason };
  });
}

/** The reviewed entry for a file (its path relative to DIR ends with the entry's path, at a separator). */
export function reviewedRefusal(file: string, reviewed: readonly ReviewedRefusal[]): ReviewedRefusal | undefined {
  const normalised = file.split(path.sep).join('/');
  return reviewed.find((entry) => normalised === entry.file || normalised.endsWith(`/${entry.file}`));
}

export function count(reports: readonly FileReport[], reviewed: readonly ReviewedRefusal[] = []): { counts: Counts; lists: Record<string, string[]> } {
  const lists: Record<string, string[]> = { crashes: [], refusedValid: [], refusedReviewed: [], unusualSampleOutputs: [], inconsistent: [] };
  const counts: Counts = { files: reports.length, crashes: 0, refusedValid: 0, unusualSampleOutputs: 0, damagedRefused: 0, acceptedWithWarnings: 0, inconsistent: 0, refusedReviewed: 0, byCode: {} };
  for (const report of reports) {
    const outcomes = Object.values(report.outcomes);
    const first = report.outcomes.default;
    counts.byCode[first.code] = (counts.byCode[first.code] ?? 0) + 1;
    const add = (list: string, detail: string): void => {
      lists[list]?.push(`${report.file}: ${detail}`);
    };
    if (outcomes.some((o) => o.code === 'CRASH')) {
      counts.crashes++;
      add('crashes', outcomes.find((o) => o.code === 'CRASH')?.message.split('\n')[0] ?? '');
    }
    if (new Set(outcomes.map((o) => o.code)).size > 1) {
      counts.inconsistent++;
      add('inconsistent', outcomes.map((o) => o.code).join(' / '));
    }
    // Damage the decoder named (as a warning or as the error that stopped it) is no valid image, whatever a
    // more lenient reference decoder makes of it.
    if (first.code === 'CORRUPT_IMAGE' && describesDamage(first.message)) counts.damagedRefused++;
    else if (first.code === 'CORRUPT_IMAGE' && report.reference?.ok) {
      const entry = reviewedRefusal(report.file, reviewed);
      if (entry) {
        counts.refusedReviewed++;
        add('refusedReviewed', entry.reason);
      } else {
        counts.refusedValid++;
        add('refusedValid', first.message);
      }
    }
    if (first.code === 'SUCCEEDED' && first.warnings.length > 0) counts.acceptedWithWarnings++;
    if (report.depth !== undefined && !DISPLAYABLE.includes(report.depth) && outcomes.some((o) => o.code === 'SUCCEEDED')) {
      counts.unusualSampleOutputs++;
      add('unusualSampleOutputs', report.depth);
    }
  }
  return { counts, lists };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'no-reference': { type: 'boolean', default: false } },
  });
  const [dir] = positionals;
  if (dir === undefined) {
    process.stderr.write('Usage: npm run robustness -- DIR [--json] [--no-reference]\n');
    return 2;
  }
  if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
  const reference = values['no-reference'] ? undefined : await referenceDecoder();
  const reports: FileReport[] = [];
  try {
    for await (const file of walk(dir)) {
      const bytes = await readFile(file);
      const outcomes = {} as Record<Way, Outcome>;
      for (const way of Object.keys(WAYS) as Way[]) outcomes[way] = await run(bytes, way);
      const needsReference = outcomes.default.code === 'CORRUPT_IMAGE';
      reports.push({
        file: path.relative(dir, file),
        outcomes,
        depth: await sampleDepth(bytes),
        reference: needsReference && reference ? await reference(path.resolve(file)) : undefined,
      });
      if (reports.length % 100 === 0) process.stderr.write(`${reports.length} files …\n`);
    }
  } finally {
    reference?.close();
  }
  const { counts, lists } = count(reports, await readReviewedRefusals());
  if (values.json) process.stdout.write(`${JSON.stringify({ counts, lists, reports }, null, 2)}\n`);
  else {
    const lines = [
      `${counts.files} files under ${dir}, each run three ways (${Object.keys(WAYS).join(', ')})`,
      `  crashes:                          ${counts.crashes}`,
      `  valid images refused as corrupt:  ${counts.refusedValid}${reference ? ' (reference: Pillow)' : ' (no reference decoder run)'}`,
      `  refusals reviewed as invalid:     ${counts.refusedReviewed} (scripts/robustness-reviewed-refusals.json; Pillow decodes them)`,
      `  outputs from unusual samples:     ${counts.unusualSampleOutputs}`,
      `  damaged decodes refused:          ${counts.damagedRefused}`,
      `  accepted, carrying warnings:      ${counts.acceptedWithWarnings}`,
      `  outcome differs between ways:     ${counts.inconsistent}`,
      `  outcomes (default way):           ${Object.entries(counts.byCode).map(([code, n]) => `${code} ${n}`).join(', ')}`,
    ];
    for (const [name, entries] of Object.entries(lists)) {
      if (entries.length > 0) lines.push('', `${name}:`, ...entries.map((entry) => `  ${entry}`));
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return counts.crashes + counts.refusedValid + counts.unusualSampleOutputs > 0 ? 1 : 0;
}

// Run as a script only (the unit test imports count()).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`robustness failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
