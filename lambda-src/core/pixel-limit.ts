/**
 * The default pixel limit for a function's memory size. The worst decodes hold the whole image in memory at
 * once: an interlaced PNG (libvips reads every pass before the first row is final), worst with an alpha channel,
 * and a progressive JPEG (libjpeg keeps every coefficient of every scan); a baseline JPEG streams. Measured by
 * `npm run bench -- --only pixel-limit` at 8, 24 and 48 MP (README, "Pixel limit and memory"), as the peak of
 * the process's own resident memory (VmHWM): interlaced RGBA PNG 8.95-9.05 bytes per pixel over 73-79 MB (two
 * runs), interlaced RGB PNG 6.5-6.6 over 71-73 MB, progressive JPEG 1.35 over 67-68 MB, baseline JPEG 0.32 over
 * ~62 MB (by hand: a 100 MP interlaced RGB PNG peaks at 703 MB, a 49 MP interlaced RGBA PNG at 496 MB). The
 * earlier figures (3.7 bytes per pixel at worst) were wrong because the bench read getrusage's maxRSS, which on
 * Linux also counts the parent's memory at fork, so every child reported at least the bench's ~250 MB and the
 * slopes came out flat. The rule keeps the worst with headroom:
 * limit = (memory - reserve) / (bytes per pixel x headroom), between 1 MP and sharp's own ceiling
 * (1024 MB: 76.3 MP, whose worst decode needs ~731 MB).
 */

/** Peak bytes per source pixel assumed: the worst measured (interlaced RGBA PNG, 9.05) rounded up with room for noise. */
export const WORST_BYTES_PER_PIXEL = 9.5;
/** MiB for what every invocation holds whatever the image: the runtime, sharp, the source object (measured ~62-79 MB). */
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
