/**
 * The added cost of the content insight (placeholder, dominant colour, perceptual hash) the function computes
 * on every image, as a ratio to processing the image without it. In-process, on the corpus: per file,
 * processImage as the function calls it, then insightFromOutputs on its outputs, each timed; the ratio of
 * a round is the insight's total over processing's total, and the figure is the median over rounds.
 */
import { readFile } from 'node:fs/promises';
import { processImage } from '../../lambda-src/core/image.js';
import { insightFromOutputs } from '../../lambda-src/core/insight.js';
import { DEFAULT_MAX_PIXELS } from '../../lambda-src/core/settings.js';
import { DEFAULT_SIZE_SPEC, parseSizeSpec } from '../../lambda-src/core/sizes.js';
import type { CorpusFile } from '../lib/corpus.js';
import { figure, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { formatMs, median, pairedRatio } from '../lib/stats.js';

export const INSIGHT = 'Content insight';
/** The target: under 5% of one image's processing. */
export const INSIGHT_TARGET_RATIO = 0.05;

const CASES = [
  { name: `default size (${DEFAULT_SIZE_SPEC})`, sizes: DEFAULT_SIZE_SPEC, fit: 'cover' as const },
  { name: '3 sizes (1600, 800, 200 px inside)', sizes: 'large=1600x1600,medium=800x800,small=200x200', fit: 'inside' as const },
];

export async function benchInsight(options: { files: readonly CorpusFile[]; plan: Plan; log: (line: string) => void }): Promise<Figure[]> {
  const { files, plan, log } = options;
  const bodies = await Promise.all(files.map((file) => readFile(file.path)));
  const rows: Figure[] = [];
  for (const testCase of CASES) {
    log(`Content insight: ${testCase.name}, ${files.length} files x ${plan.rounds} rounds …`);
    const sizes = parseSizeSpec(testCase.sizes);
    const processing: number[] = [];
    const insight: number[] = [];
    const perImage: number[] = [];
    for (let round = -1; round < plan.rounds; round += 1) {
      let processMs = 0;
      let insightMs = 0;
      for (const body of bodies) {
        const started = performance.now();
        const processed = await processImage(body, { sizes, format: 'png', fit: testCase.fit, maxPixels: DEFAULT_MAX_PIXELS, allowUpscale: false });
        const processedAt = performance.now();
        await insightFromOutputs(processed.outputs);
        const done = performance.now();
        if (round < 0) continue; // warm-up
        processMs += processedAt - started;
        insightMs += done - processedAt;
        perImage.push(done - processedAt);
      }
      if (round >= 0) {
        processing.push(processMs);
        insight.push(insightMs);
      }
    }
    const ratio = pairedRatio(insight, processing);
    rows.push(
      figure(INSIGHT, `added time, ${testCase.name}`, {
        result: `+${(ratio * 100).toFixed(2)}% (${formatMs(median(perImage))}/image median)`,
        target: `< ${INSIGHT_TARGET_RATIO * 100}%`,
        pass: ratio < INSIGHT_TARGET_RATIO,
        value: ratio,
        unit: 'ratio',
        method: `insightFromOutputs (decode of the smallest output to <=64 px, ThumbHash at <=32 px, colour, pHash) over processImage, same files, same round; median of ${plan.rounds} rounds over ${files.length} files`,
      }),
    );
  }
  return rows;
}
