/**
 * Progressive JPEGs past the 1/8 floor: thumbnails read from the DC scans alone against today's path (the same
 * core with the DC-scan path off), in one worker, interleaved file by file; and how close the two outputs are.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { processImage } from '../../lambda-src/core/image.js';
import { DC_MIN_SOURCE_PIXELS, setDcScanDecoding } from '../../lambda-src/core/jpeg/progressive.js';
import { parseSizeSpec } from '../../lambda-src/core/sizes.js';
import { BUNDLE_DIR } from '../lib/bundle.js';
import { ServeWorker, type WorkerCommand } from '../lib/children.js';
import type { Corpus } from '../lib/corpus.js';
import { sizeSpec, THUMBNAIL, type ServeConfig } from '../lib/engines.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { formatMs, formatRatio, median, pairedRatio, shuffled, sum } from '../lib/stats.js';
import type { Availability } from './image-core.js';

export const PROGRESSIVE = 'Progressive JPEGs past the 1/8 floor (thumbnail=200x200, png, cover)';
/** The DC-scan path makes a progressive thumbnail at least this many times faster than today's path. */
export const PROGRESSIVE_TARGET = 5;
/** Outputs of the two paths agree to at least this PSNR (dB). */
export const PSNR_TARGET = 40;

export interface ProgressiveInputs {
  corpus: Corpus;
  plan: Plan;
  node: WorkerCommand;
  core: Availability<string>;
  log: (line: string) => void;
}

interface Sample {
  name: string;
  path: string;
  megapixels: number;
}

/** Photos from this size up are "large" in the second speed row (the corpus' 8 and 18 MP ones). */
const LARGE_MEGAPIXELS = 8;

/**
 * The corpus photographs a 200x200 thumbnail needs at most 1/8 of (short side ≥ 1600 px): progressive ones as
 * they are, baseline ones re-encoded progressive twice (libjpeg's scan script, and mozjpeg's).
 */
async function progressiveSamples(corpus: Corpus, quick: boolean): Promise<Sample[]> {
  const dir = path.join(BUNDLE_DIR, 'progressive');
  await mkdir(dir, { recursive: true });
  const samples: Sample[] = [];
  for (const file of corpus.files) {
    if (file.extension !== '.jpg' && file.extension !== '.jpeg') continue;
    const metadata = await sharp(file.path).metadata();
    if (Math.min(metadata.width, metadata.height) < THUMBNAIL.height * 8) continue;
    const megapixels = (metadata.width * metadata.height) / 1e6;
    if (metadata.isProgressive) {
      samples.push({ name: file.name, path: file.path, megapixels });
      continue;
    }
    for (const [variant, options] of [
      ['progressive', { progressive: true, quality: 90 }],
      ['mozjpeg', { mozjpeg: true, quality: 90 }],
    ] as const) {
      const out = path.join(dir, `${path.parse(file.name).name}.${variant}.jpg`);
      const made = await stat(out).then(
        (info) => info.size > 0,
        () => false,
      );
      if (!made) await writeFile(out, await sharp(file.path).jpeg(options).toBuffer());
      samples.push({ name: `${file.name} (${variant})`, path: out, megapixels });
    }
  }
  samples.sort((a, b) => a.name.localeCompare(b.name));
  return quick ? samples.filter((s) => !s.name.startsWith('Elephants')).slice(0, 3) : samples;
}

async function psnr(a: Buffer, b: Buffer): Promise<number> {
  const x = await sharp(a).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const y = await sharp(b).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (x.info.width !== y.info.width || x.info.height !== y.info.height) return 0;
  let squares = 0;
  for (let i = 0; i < x.data.length; i++) squares += ((x.data[i] ?? 0) - (y.data[i] ?? 0)) ** 2;
  return squares === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / (squares / x.data.length));
}

/** The lowest PSNR between the two paths' thumbnails over the samples, and the sample it was on. */
async function lowestPsnr(samples: readonly Sample[]): Promise<{ db: number; name: string }> {
  const options = { sizes: parseSizeSpec(sizeSpec([THUMBNAIL])), format: 'png', fit: 'cover', maxPixels: 100_000_000, allowUpscale: false } as const;
  let lowest = { db: Number.POSITIVE_INFINITY, name: '' };
  try {
    for (const sample of samples) {
      const input = await readFile(sample.path);
      setDcScanDecoding(false);
      const today = await processImage(input, options);
      setDcScanDecoding(true);
      const fast = await processImage(input, options);
      const db = await psnr(fast.outputs[0]?.body ?? Buffer.alloc(0), today.outputs[0]?.body ?? Buffer.alloc(0));
      if (db < lowest.db) lowest = { db, name: sample.name };
    }
  } finally {
    setDcScanDecoding(true);
  }
  return lowest;
}

export async function benchProgressive(inputs: ProgressiveInputs): Promise<Figure[]> {
  const { plan, log } = inputs;
  const speedName = 'DC scans vs today\'s path';
  const psnrName = 'agreement with today\'s thumbnails';
  const target = `≥ ${PROGRESSIVE_TARGET}×`;
  if (!inputs.core.ok) {
    return [
      notAvailable(PROGRESSIVE, speedName, inputs.core.reason, 'needs the image core', target),
      notAvailable(PROGRESSIVE, psnrName, inputs.core.reason, 'needs the image core'),
    ];
  }
  const samples = await progressiveSamples(inputs.corpus, plan.quick);
  if (samples.length === 0) return [notAvailable(PROGRESSIVE, speedName, 'no corpus JPEG has a short side of 1600 px or more', '', target)];
  const indices = samples.map((_, i) => i);
  const config: ServeConfig = { files: samples.map((s) => s.path), engines: ['ours-1', 'ours-1-nodc'], core: inputs.core.value };
  const rounds = plan.rounds;
  // Per round: file index → ms, for each path.
  const results = { dc: [] as Map<number, number>[], today: [] as Map<number, number>[] };
  let worker: ServeWorker | undefined;
  try {
    worker = await ServeWorker.start('progressive worker', inputs.node, 'serve', config);
    await worker.pass('ours-1', indices);
    await worker.pass('ours-1-nodc', indices);
    const started = performance.now();
    for (let round = 0; round < rounds; round++) {
      const dc = new Map<number, number>();
      const today = new Map<number, number>();
      for (const index of indices) {
        for (const engine of shuffled(['ours-1', 'ours-1-nodc'], round * 1009 + index)) {
          const [ms] = await worker.pass(engine, [index]);
          (engine === 'ours-1' ? dc : today).set(index, ms ?? Number.NaN);
        }
      }
      results.dc.push(dc);
      results.today.push(today);
    }
    log(`Progressive JPEGs: ${rounds} rounds on ${samples.length} files in ${formatMs(performance.now() - started)}`);
  } catch (error) {
    return [notAvailable(PROGRESSIVE, speedName, oneLine((error as Error).message, 140), '', target)];
  } finally {
    await worker?.close();
  }
  const totals = (rounds: Map<number, number>[], subset: number[]): number[] => rounds.map((times) => sum(subset.map((i) => times.get(i) ?? Number.NaN)));
  const files = `progressive photos of the corpus with a short side ≥ 1600 px (${samples.map((s) => s.name).join(', ')})`;
  const large = indices.filter((i) => (samples[i]?.megapixels ?? 0) >= LARGE_MEGAPIXELS);
  const smaller = indices.filter((i) => (samples[i]?.megapixels ?? 0) < LARGE_MEGAPIXELS);
  // The function's own cutoff applies in both engines: below it the "DC" engine takes today's path too.
  const cutoffMegapixels = DC_MIN_SOURCE_PIXELS / 1e6;
  const belowCutoff = indices.filter((i) => (samples[i]?.megapixels ?? 0) < cutoffMegapixels).length;
  const cutoffNote = `; the DC path is off below ${cutoffMegapixels} MP (DC_MIN_SOURCE_PIXELS): ${belowCutoff} of these below it`;
  const rows: Figure[] = [];
  for (const [name, subset] of [
    [`${speedName}, all photos (cutoff on)`, indices],
    [`${speedName}, photos of ${LARGE_MEGAPIXELS} MP and more`, large],
    [`${speedName}, photos under ${LARGE_MEGAPIXELS} MP`, smaller],
  ] as const) {
    if (subset.length === 0) continue;
    const today = totals(results.today, subset);
    const dc = totals(results.dc, subset);
    const ratio = pairedRatio(today, dc);
    rows.push(
      figure(PROGRESSIVE, name, {
        result: `${formatRatio(ratio)} faster (${formatMs(median(today) / subset.length)} → ${formatMs(median(dc) / subset.length)} per image)`,
        target,
        pass: ratio >= PROGRESSIVE_TARGET,
        value: ratio,
        unit: 'ratio today/DC',
        method: `processImage() with the DC-scan path on and off (setDcScanDecoding), same worker, interleaved file by file, a full GC before each; ${subset.length} of the ${files}${cutoffNote}; median over ${rounds} passes after a warm-up of time(today)/time(DC)`,
      }),
    );
  }
  const lowest = await lowestPsnr(samples);
  rows.push(
    figure(PROGRESSIVE, psnrName, {
      result: `lowest PSNR ${Number.isFinite(lowest.db) ? lowest.db.toFixed(1) : '∞'} dB (${lowest.name})`,
      target: `≥ ${PSNR_TARGET} dB`,
      pass: lowest.db >= PSNR_TARGET,
      value: lowest.db,
      unit: 'dB',
      method: 'PSNR of the DC path\'s thumbnail against today\'s, RGB, over the same files',
    }),
  );
  return rows;
}
