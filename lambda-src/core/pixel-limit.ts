/**
 * The default pixel limit for a function's memory size. The worst decodes hold the whole image in memory at
 * once: a progressive JPEG (libjpeg keeps every coefficient of every scan, 2 bytes per sample) and an interlaced
 * PNG (libvips must read all passes before the first row is final). Measured by `npm run bench -- --only
 * pixel-limit` (README, "Pixel limit and memory"): the peak grows by about 4.3 bytes per pixel over a
 * fixed ~100 MB (Node, sharp, the source bytes), whatever the pixel count. The rule keeps that worst peak
 * within the memory with 25% headroom: limit = (memory - reserve) / (bytes per pixel x 1.25).
 */

/** Peak bytes per source pixel of the worst decode measured (interlaced PNG, RGB), rounded up. */
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
