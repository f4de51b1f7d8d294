/**
 * The default pixel limit for a function's memory size. The worst decodes hold the whole image in memory at
 * once: an interlaced PNG (libvips reads every pass before the first row is final) and a progressive JPEG
 * (libjpeg keeps every coefficient of every scan); a baseline JPEG streams. Measured by `npm run bench --
 * --only pixel-limit` at 8, 24 and 48 MP (README, "Pixel limit and memory"): interlaced PNG 3.7 bytes per pixel
 * over ~185 MB, progressive JPEG 2.7 over ~120 MB, baseline JPEG 0.7 over ~60 MB (issue 20 measured 428 and
 * 405 MB at 100 MP, on the same lines). The rule keeps the worst with headroom:
 * limit = (memory - reserve) / (bytes per pixel x headroom), between 1 MP and sharp's own ceiling.
 */

/** Peak bytes per source pixel assumed: the worst measured (interlaced PNG, 3.7) rounded up with room for noise. */
export const WORST_BYTES_PER_PIXEL = 4.5;
/** MiB for what every invocation holds whatever the image: the runtime, sharp, the source object. */
export const RESERVED_MB = 160;
/** Room left over the measured peak, for allocator slack and the outputs. */
export const HEADROOM = 1.25;
/** sharp's own ceiling (its default limitInputPixels). */
export const SHARP_PIXEL_CEILING = 0x3fff * 0x3fff;
/** Below this a limit would refuse ordinary photos; a function that small is misconfigured, not protected. */
export const MIN_PIXEL_LIMIT = 1_000_000;

/** The largest width x height whose worst decode fits a function of `memoryMb` MiB with headroom. */
export function maxPixelsForMemory(memoryMb: number): number {
  if (!Number.isFinite(memoryMb) || memoryMb <= 0) throw new RangeError(`memory must be a positive number of MB, not ${memoryMb}`);
  const usable = Math.max(0, memoryMb - RESERVED_MB) * 2 ** 20;
  const pixels = Math.floor(usable / (WORST_BYTES_PER_PIXEL * HEADROOM));
  return Math.min(SHARP_PIXEL_CEILING, Math.max(MIN_PIXEL_LIMIT, pixels));
}

/** Lambda sets this to the function's memory in MB. */
export const LAMBDA_MEMORY_ENV = 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE';
