/**
 * Peak memory against pixel count for the decodes that hold the whole image (progressive JPEG, interlaced PNG
 * in RGB and, the worst, in RGBA) and for the one that streams (baseline JPEG), and the rule that sets the
 * function's default pixel limit from its memory (lambda-src/core/pixel-limit.ts). Each case is a fresh Node
 * that imports the bundled core, reads the file and runs processImage to one 200x200 PNG, as the function does;
 * its own peak RSS (VmHWM) is reported.
 * The slope between pixel counts is the memory each further pixel costs, the intercept what any image costs.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { HEADROOM, maxPixelsForMemory, RESERVED_MB, WORST_BYTES_PER_PIXEL } from '../../lambda-src/core/pixel-limit.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { median } from '../lib/stats.js';
import type { Availability } from './image-core.js';

const execFileAsync = promisify(execFile);

export const PIXEL_LIMIT = 'Pixel limit and memory';

/** The decodes that hold the whole image, the one that streams, and the worst realistic kind: an 8-bit RGBA interlaced PNG. */
const KINDS = ['baseline JPEG', 'progressive JPEG', 'interlaced PNG', 'interlaced PNG with alpha'] as const;
type Kind = (typeof KINDS)[number];

/**
 * Photo-like content that compresses like a photo: noise at 1/8 scale, enlarged smoothly (the alpha channel of
 * the RGBA kind too: a smooth, varying transparency, not a constant one that would compress away).
 */
async function makeImage(kind: Kind, megapixels: number, file: string): Promise<void> {
  const width = Math.round(Math.sqrt(megapixels * 1e6 * 1.5));
  const height = Math.round((megapixels * 1e6) / width);
  const channels = kind === 'interlaced PNG with alpha' ? 4 : 3;
  const seed = await sharp({ create: { width: Math.ceil(width / 8), height: Math.ceil(height / 8), channels, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
    .png()
    .toBuffer();
  const pipeline = sharp(seed, { limitInputPixels: false }).resize(width, height, { fit: 'fill', kernel: 'cubic' });
  if (kind.startsWith('interlaced PNG')) await pipeline.png({ progressive: true, compressionLevel: 1 }).toFile(file);
  else await pipeline.jpeg({ quality: 85, progressive: kind === 'progressive JPEG', mozjpeg: false }).toFile(file);
}

/** Runs the bundled core over `file` in a fresh Node; its peak RSS in MiB. */
async function peakMb(core: string, file: string | undefined): Promise<number> {
  const script = [
    `const { processImage } = await import(${JSON.stringify(core)});`,
    `const { readFile } = await import('node:fs/promises');`,
    file === undefined
      ? ''
      : `await processImage(await readFile(${JSON.stringify(file)}), { sizes: [{ name: 't', width: 200, height: 200 }], format: 'png', fit: 'cover', maxPixels: 1e9, allowUpscale: false });`,
    // VmHWM: this process's own peak (getrusage's maxRSS would count the bench's memory at fork).
    `const { readFileSync } = await import('node:fs');`,
    `const hwm = /^VmHWM:\\s+(\\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];`,
    `process.stdout.write(String(hwm === undefined ? process.resourceUsage().maxRSS : Number(hwm)));`,
  ].join('\n');
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, MALLOC_ARENA_MAX: '2' }, timeout: 300_000 });
  return Number(stdout.trim()) / 1024;
}

/** Least-squares line through (x, y). */
function fit(points: readonly [number, number][]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const slope = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

export async function benchPixelLimit(plan: Plan, core: Availability<string>, log: (line: string) => void): Promise<Figure[]> {
  const megapixelCounts = plan.quick ? [4, 12] : [8, 24, 48];
  const runs = plan.quick ? 1 : 2;
  const method = (mp: number): string =>
    `peak RSS of a fresh node: processImage() of a ${mp} MP photo-like file to 200x200 png (MALLOC_ARENA_MAX=2 as in the function); median of ${runs}`;
  if (!core.ok) return [notAvailable(PIXEL_LIMIT, 'peak by pixel count', core.reason, method(megapixelCounts[0] ?? 0))];
  const dir = path.join(os.tmpdir(), `img-resizer-pixel-limit-${process.pid}`);
  await mkdir(dir, { recursive: true });
  const rows: Figure[] = [];
  try {
    const idle = median(await Promise.all([peakMb(core.value, undefined)]));
    rows.push(figure(PIXEL_LIMIT, 'node with the core loaded, idle', { result: `${idle.toFixed(0)} MB`, value: idle, unit: 'MB peak RSS', method: 'peak RSS of a fresh node that imports the bundled core' }));
    const slopes: Partial<Record<Kind, { slope: number; intercept: number }>> = {};
    for (const kind of KINDS) {
      const points: [number, number][] = [];
      for (const mp of megapixelCounts) {
        const file = path.join(dir, `${kind.replace(/\s/g, '-')}-${mp}.${kind.includes('PNG') ? 'png' : 'jpg'}`);
        try {
          await makeImage(kind, mp, file);
          const samples: number[] = [];
          for (let run = 0; run < runs; run++) samples.push(await peakMb(core.value, file));
          const mb = median(samples);
          points.push([mp * 1e6, mb]);
          log(`Pixel limit: ${kind}, ${mp} MP: ${mb.toFixed(0)} MB peak`);
          rows.push(figure(PIXEL_LIMIT, `${kind}, ${mp} MP`, { result: `${mb.toFixed(0)} MB`, value: mb, unit: 'MB peak RSS', method: method(mp) }));
        } catch (error) {
          rows.push(notAvailable(PIXEL_LIMIT, `${kind}, ${mp} MP`, oneLine((error as Error).message, 120), method(mp)));
        } finally {
          await rm(file, { force: true });
        }
      }
      if (points.length >= 2) {
        const line = fit(points);
        slopes[kind] = line;
        rows.push(
          figure(PIXEL_LIMIT, `${kind}: bytes per pixel`, {
            result: `${((line.slope * 2 ** 20)).toFixed(2)} B/px + ${line.intercept.toFixed(0)} MB`,
            value: line.slope * 2 ** 20,
            unit: 'bytes per pixel',
            method: `least-squares line through the peaks above (${megapixelCounts.join(', ')} MP)`,
          }),
        );
      }
    }
    const worst = Math.max(...Object.values(slopes).map((line) => line.slope * 2 ** 20));
    rows.push(
      figure(PIXEL_LIMIT, 'rule: bytes per pixel assumed', {
        result: `${WORST_BYTES_PER_PIXEL} B/px`,
        target: `≥ worst measured`,
        pass: Number.isFinite(worst) ? WORST_BYTES_PER_PIXEL >= worst : undefined,
        value: WORST_BYTES_PER_PIXEL,
        unit: 'bytes per pixel',
        method: `maxPixelsForMemory(MB) = (MB - ${RESERVED_MB}) MiB / (${WORST_BYTES_PER_PIXEL} B x ${HEADROOM}); worst measured ${worst.toFixed(2)} B/px`,
      }),
    );
    for (const memory of [512, 1024, 2048, 3008]) {
      const limit = maxPixelsForMemory(memory);
      const predicted = Math.max(...Object.values(slopes).map((line) => line.intercept + line.slope * limit));
      rows.push(
        figure(PIXEL_LIMIT, `default limit at ${memory} MB`, {
          result: `${(limit / 1e6).toFixed(1)} MP (worst decode ≈ ${predicted.toFixed(0)} MB)`,
          target: `< ${memory} MB`,
          pass: Number.isFinite(predicted) ? predicted < memory : undefined,
          value: limit,
          unit: 'pixels',
          method: 'the worst peak predicted by the measured lines at the default limit for this memory',
        }),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
