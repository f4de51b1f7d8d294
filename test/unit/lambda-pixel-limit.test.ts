import { describe, expect, it } from 'vitest';
import { HEADROOM, MIN_PIXEL_LIMIT, RESERVED_MB, SHARP_PIXEL_CEILING, WORST_BYTES_PER_PIXEL, maxPixelsForMemory } from '../../lambda-src/core/pixel-limit.js';
import { DEFAULT_MAX_PIXELS, loadFunctionSettings } from '../../lambda-src/core/settings.js';

const ENV = { DEST_BUCKET: 'resized', TABLE_NAME: 'images' };

describe('maxPixelsForMemory', () => {
  it('leaves the worst decode room inside the memory, with headroom', () => {
    for (const memory of [256, 512, 1024, 1536]) {
      const limit = maxPixelsForMemory(memory);
      const worstPeakMb = RESERVED_MB + (limit * WORST_BYTES_PER_PIXEL) / 2 ** 20;
      expect(worstPeakMb * HEADROOM).toBeGreaterThan(memory * 0.95);
      expect(RESERVED_MB + (limit * WORST_BYTES_PER_PIXEL * HEADROOM) / 2 ** 20).toBeLessThanOrEqual(memory);
    }
  });

  it('holds the worst measured decode, an interlaced 8-bit RGBA PNG, at every memory size the bench prices', () => {
    // The measured line of `npm run bench -- --only pixel-limit`, row "interlaced PNG with alpha: bytes per pixel"
    // (9.05 B/px + 73 MB; VmHWM of a fresh node at 8, 24 and 48 MP). The rule must stay above it on its own.
    const MEASURED_BYTES_PER_PIXEL = 9.05;
    const MEASURED_INTERCEPT_MB = 73;
    expect(WORST_BYTES_PER_PIXEL).toBeGreaterThanOrEqual(MEASURED_BYTES_PER_PIXEL);
    for (const memory of [512, 1024, 1769, 3008]) {
      const limit = maxPixelsForMemory(memory);
      const predictedPeakMb = MEASURED_INTERCEPT_MB + (limit * MEASURED_BYTES_PER_PIXEL) / 2 ** 20;
      expect(predictedPeakMb, `${memory} MB: ${limit} pixels`).toBeLessThan(memory);
    }
    // The values README's table quotes (1024 MB: 76.3 MP, not the 161 MP of the rule measured with maxRSS).
    expect([512, 1024, 1769, 2048, 3008].map(maxPixelsForMemory)).toEqual([31_082_000, 76_292_182, 142_076_529, 166_712_546, 251_481_637]);
  });

  it('grows with memory, between 1 MP and sharp\'s ceiling', () => {
    expect(maxPixelsForMemory(512)).toBeLessThan(maxPixelsForMemory(1024));
    expect(maxPixelsForMemory(128)).toBe(MIN_PIXEL_LIMIT);
    expect(maxPixelsForMemory(10_240)).toBe(SHARP_PIXEL_CEILING);
    expect(() => maxPixelsForMemory(0)).toThrow(RangeError);
  });
});

describe('the function\'s default pixel limit', () => {
  it('follows AWS_LAMBDA_FUNCTION_MEMORY_SIZE when Lambda sets it', () => {
    expect(loadFunctionSettings({ ...ENV, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' }).maxPixels).toBe(maxPixelsForMemory(512));
  });

  it('is 100 MP where the memory is unknown, and MAX_PIXELS always wins', () => {
    expect(loadFunctionSettings(ENV).maxPixels).toBe(DEFAULT_MAX_PIXELS);
    expect(loadFunctionSettings({ ...ENV, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', MAX_PIXELS: '1000' }).maxPixels).toBe(1000);
  });
});
