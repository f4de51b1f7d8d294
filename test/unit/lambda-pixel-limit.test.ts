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
