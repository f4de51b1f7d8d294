import { HEADROOM, maxPixelsForMemory, RESERVED_MB, WORST_BYTES_PER_PIXEL } from '../../lambda-src/core/pixel-limit.js';
import { LAMBDA_MEMORY_RANGE_MB } from '../constants.js';

/** A setting init applies anyway but the operator should hear about (never an error: the stack still works). */
export interface InitWarning {
  code: 'PIXEL_LIMIT_EXCEEDS_MEMORY';
  message: string;
  suggestion: string;
}

/** The memory (MB) whose worst decode holds `pixels` with headroom: maxPixelsForMemory's rule turned round. */
export function memoryForPixels(pixels: number): number {
  return RESERVED_MB + Math.ceil((pixels * WORST_BYTES_PER_PIXEL * HEADROOM) / 2 ** 20);
}

/**
 * A warning when the chosen pixel limit lets through images whose worst decode (an interlaced PNG, worst with an
 * alpha channel: ~9 bytes per pixel) does not fit the function's memory: such an upload would end the invocation
 * out of memory instead of being refused as too large. Without a limit the function follows its memory
 * (maxPixelsForMemory): it fits. Takes the settings structurally, so it reads `maxPixels` wherever the settings
 * carry it.
 */
export function memoryFitWarning(settings: { memory: number; maxPixels?: number | undefined }): InitWarning | undefined {
  const { memory, maxPixels } = settings;
  if (maxPixels === undefined) return undefined;
  const fits = maxPixelsForMemory(memory);
  if (maxPixels <= fits) return undefined;
  const needed = memoryForPixels(maxPixels);
  const megapixels = (n: number): string => `${(n / 1e6).toFixed(n < 10e6 ? 1 : 0)} MP`;
  return {
    code: 'PIXEL_LIMIT_EXCEEDS_MEMORY',
    message:
      `The pixel limit (${megapixels(maxPixels)}) does not fit the function's memory (${memory} MB): the worst decode ` +
      `(an interlaced PNG with alpha) of an image that large needs about ${needed} MB, and ${memory} MB holds ${megapixels(fits)}. ` +
      'Such an upload would run the function out of memory instead of being refused as too large.',
    suggestion:
      needed <= LAMBDA_MEMORY_RANGE_MB.max
        ? `Give --memory ${needed} or more, or lower the pixel limit to ${fits} or less (or leave it unset: it then follows the memory).`
        : `No Lambda memory size holds it: lower the pixel limit to ${fits} or less (or leave it unset: it then follows the memory).`,
  };
}
