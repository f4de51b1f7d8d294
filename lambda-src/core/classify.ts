import { ImageError, type ImageErrorCode } from './errors.js';
import { processImage, type OriginalImage } from './image.js';

/** The core's judgement of one file: what the function would record for it, without writing anything. */
export type ImageVerdict =
  | { ok: true; original: OriginalImage }
  | { ok: false; code: ImageErrorCode; message: string };

export interface ClassifyLimits {
  maxPixels: number;
  maxBytes?: number | undefined;
}

/** A size small enough that judging costs little more than the decode it cannot skip. */
const PROBE_SIZE = { name: 'probe', width: 64, height: 64 } as const;

/**
 * Judges a file as the function would: the same header read, limits, decode and decoder-warning verdict as
 * processImage, whose outcome it returns (the CLI calls this so that a single file is judged as in a batch).
 * Damage only shows once every pixel is decoded, so this decodes the whole image; the output is tiny and
 * thrown away.
 * @throws only for faults that are not the image's (a bug, memory exhaustion); ImageErrors become verdicts.
 */
export async function classifyImage(bytes: Buffer, limits: ClassifyLimits): Promise<ImageVerdict> {
  try {
    const { original } = await processImage(bytes, {
      sizes: [PROBE_SIZE],
      format: 'png',
      fit: 'inside',
      maxPixels: limits.maxPixels,
      maxBytes: limits.maxBytes,
      allowUpscale: false,
    });
    return { ok: true, original };
  } catch (error) {
    if (error instanceof ImageError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}
