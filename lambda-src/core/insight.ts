import { rgbaToThumbHash } from 'thumbhash';
import type { ProcessedOutput } from './image.js';
import { sharp } from './sharp.js';

/**
 * What an image looks like, in a few bytes, computed once at upload so apps need not compute it per request:
 * a placeholder to paint while the image loads, its dominant colour, and a perceptual hash to find
 * near-duplicates.
 *
 * Placeholder: ThumbHash rather than BlurHash. It keeps the aspect ratio and alpha, renders more detail in
 * fewer bytes (about 25, base64 about 34 chars), and has no component counts to tune; `thumbhash` is the
 * author's own zero-dependency package (Evan Wallace), decoders exist for the web, iOS and Android.
 */
export interface ImageInsight {
  /** ThumbHash, base64. */
  placeholder: string;
  /** `#rrggbb`, sRGB. */
  dominantColor: string;
  /** 64-bit DCT perceptual hash (pHash), 16 lower-case hex digits. */
  perceptualHash: string;
}

/** RGBA pixels, not premultiplied, 4 bytes a pixel, row by row. */
export interface RgbaPixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The preview the colour and the hash are computed from: 64 px is twice the pHash's 32 x 32 grid, and keeps
 * the decode and the pure-JS passes to a few milliseconds (npm run bench, "Content insight").
 */
export const PREVIEW_MAX = 64;
/**
 * ThumbHash is given at most 32 x 32 pixels (it accepts up to 100): it keeps only the lowest frequencies
 * (at most 7 per axis), which 32 px carry in full, and its encoder's time grows with the pixels.
 */
export const PLACEHOLDER_MAX = 32;

/**
 * The insight of a processed image, from the pixels of its smallest output (an image the function has just
 * encoded, at most a few hundred pixels across in usual settings): never a second decode of the source.
 * JPEG and WebP outputs even decode shrunk on load. Animated outputs give their first frame.
 */
export async function insightFromOutputs(outputs: readonly Pick<ProcessedOutput, 'body' | 'width' | 'height'>[]): Promise<ImageInsight> {
  const smallest = outputs.reduce<(typeof outputs)[number] | undefined>(
    (best, output) => (best === undefined || output.width * output.height < best.width * best.height ? output : best),
    undefined,
  );
  if (smallest === undefined) throw new Error('insightFromOutputs needs at least one output');
  return imageInsight(await previewPixels(smallest.body));
}

/** Decodes an encoded image to RGBA pixels that fit in PREVIEW_MAX x PREVIEW_MAX, in sRGB. */
export async function previewPixels(encoded: Buffer): Promise<RgbaPixels> {
  const { data, info } = await sharp(encoded)
    .resize(PREVIEW_MAX, PREVIEW_MAX, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function imageInsight(pixels: RgbaPixels): ImageInsight {
  if (pixels.width < 1 || pixels.height < 1 || pixels.width > PREVIEW_MAX || pixels.height > PREVIEW_MAX) {
    throw new Error(`imageInsight needs 1-${PREVIEW_MAX} pixels a side, not ${pixels.width}x${pixels.height}`);
  }
  return {
    placeholder: placeholderHash(pixels),
    dominantColor: dominantColor(pixels),
    perceptualHash: perceptualHash(pixels),
  };
}

/** ThumbHash, base64, of the pixels halved (2 x 2 box average) until they fit PLACEHOLDER_MAX. */
export function placeholderHash(pixels: RgbaPixels): string {
  let current = pixels;
  while (current.width > PLACEHOLDER_MAX || current.height > PLACEHOLDER_MAX) current = halve(current);
  return Buffer.from(rgbaToThumbHash(current.width, current.height, current.data)).toString('base64');
}

/** Half the size (rounded up) by averaging 2 x 2 blocks; an odd last row or column averages what it has. */
function halve(pixels: RgbaPixels): RgbaPixels {
  const width = Math.ceil(pixels.width / 2);
  const height = Math.ceil(pixels.height / 2);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      for (let c = 0; c < 4; c += 1) {
        let sum = 0;
        let count = 0;
        for (let dy = 0; dy < 2; dy += 1) {
          const sy = 2 * y + dy;
          if (sy >= pixels.height) continue;
          for (let dx = 0; dx < 2; dx += 1) {
            const sx = 2 * x + dx;
            if (sx >= pixels.width) continue;
            sum += pixels.data[(sy * pixels.width + sx) * 4 + c] ?? 0;
            count += 1;
          }
        }
        data[(y * width + x) * 4 + c] = Math.round(sum / count);
      }
    }
  }
  return { width, height, data };
}

/**
 * The dominant colour: pixels (alpha-weighted, the nearly transparent ignored) fall into 4-bit-a-channel
 * bins, the fullest bin wins, and its pixels' mean is the colour. Unlike the plain mean (which a sunset and
 * a blue sky turn to grey) it is a colour the image has. Hand-written: the npm packages for this decode the
 * image themselves (canvas or their own decoders), and these are already-decoded pixels.
 */
export function dominantColor(pixels: RgbaPixels): string {
  const bins = new Float64Array(4096);
  const sums = new Float64Array(4096 * 3);
  const { data } = pixels;
  let opaque = false;
  for (let pass = 0; pass < 2 && !opaque; pass += 1) {
    for (let i = 0; i < data.length; i += 4) {
      const alpha = data[i + 3] ?? 0;
      // First pass: pixels at least half opaque. A fully transparent image gets a second pass over all.
      if (pass === 0 && alpha < 128) continue;
      opaque = true;
      const r = data[i] ?? 0;
      const g = data[i + 1] ?? 0;
      const b = data[i + 2] ?? 0;
      const bin = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
      const weight = pass === 0 ? alpha / 255 : 1;
      bins[bin] = (bins[bin] ?? 0) + weight;
      sums[bin * 3] = (sums[bin * 3] ?? 0) + r * weight;
      sums[bin * 3 + 1] = (sums[bin * 3 + 1] ?? 0) + g * weight;
      sums[bin * 3 + 2] = (sums[bin * 3 + 2] ?? 0) + b * weight;
    }
  }
  let best = 0;
  for (let bin = 1; bin < bins.length; bin += 1) if ((bins[bin] ?? 0) > (bins[best] ?? 0)) best = bin;
  const weight = bins[best] ?? 0;
  const channel = (offset: number): string =>
    Math.round(weight > 0 ? (sums[best * 3 + offset] ?? 0) / weight : 0)
      .toString(16)
      .padStart(2, '0');
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

/** Side of the grey image the DCT runs on. */
const DCT_SIZE = 32;
/** The lowest DCT_BITS x DCT_BITS frequencies make the 64 bits. */
const DCT_BITS = 8;

/**
 * pHash: luma (premultiplied by alpha) resampled to 32 x 32, its 2-D DCT, and one bit per each of the
 * 8 x 8 lowest frequencies: set when above their median (the DC term excluded from the median). Chosen over
 * dHash by a measurement on the corpus' photos through the default 200x200 cover output: copies re-encoded at
 * quality 40, halved or cropped by 5% stayed within 12 bits with pHash, up to 15 with dHash, while distinct
 * photos were at least 20 bits apart with pHash but as close as 14 with dHash, which cannot tell them apart.
 * test/unit/duplicates.test.ts keeps the pHash half of that measurement.
 */
export function perceptualHash(pixels: RgbaPixels): string {
  const grey = resampleLuma(pixels, DCT_SIZE, DCT_SIZE);
  const coefficients = dctLowFrequencies(grey);
  const sorted = coefficients.slice(1).sort((a, b) => a - b);
  const median = ((sorted[31] ?? 0) + (sorted[32] ?? 0)) / 2;
  let hash = 0n;
  for (const value of coefficients) hash = (hash << 1n) | (value > median ? 1n : 0n);
  return hash.toString(16).padStart(16, '0');
}

/**
 * Area-averaged luma (BT.601) of the pixels at width x height, premultiplied by alpha (transparent counts as
 * black): the corpus' overlay graphics (Silk.png: white everywhere, the pattern only in alpha) have no
 * structure over white, so their hashes were noise.
 */
function resampleLuma(pixels: RgbaPixels, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  const weights = new Float64Array(width * height);
  const { data, width: w, height: h } = pixels;
  for (let y = 0; y < h; y += 1) {
    // Each source pixel spans [x, x+1) x [y, y+1); it adds to every target cell it overlaps, by the overlap.
    const y0 = (y * height) / h;
    const y1 = ((y + 1) * height) / h;
    for (let x = 0; x < w; x += 1) {
      const i = (y * w + x) * 4;
      const alpha = (data[i + 3] ?? 255) / 255;
      const luma = 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
      const value = luma * alpha;
      const x0 = (x * width) / w;
      const x1 = ((x + 1) * width) / w;
      for (let ty = Math.floor(y0); ty < Math.min(height, Math.ceil(y1)); ty += 1) {
        const dy = Math.min(y1, ty + 1) - Math.max(y0, ty);
        if (dy <= 0) continue;
        for (let tx = Math.floor(x0); tx < Math.min(width, Math.ceil(x1)); tx += 1) {
          const dx = Math.min(x1, tx + 1) - Math.max(x0, tx);
          if (dx <= 0) continue;
          const cell = ty * width + tx;
          out[cell] = (out[cell] ?? 0) + value * dx * dy;
          weights[cell] = (weights[cell] ?? 0) + dx * dy;
        }
      }
    }
  }
  for (let cell = 0; cell < out.length; cell += 1) out[cell] = (out[cell] ?? 0) / ((weights[cell] ?? 0) || 1);
  return out;
}

let cosines: Float64Array | undefined;

/** The DCT-II coefficients (u, v) for u, v < DCT_BITS of a DCT_SIZE x DCT_SIZE image, row by row. */
function dctLowFrequencies(grey: Float64Array): number[] {
  if (!cosines) {
    cosines = new Float64Array(DCT_BITS * DCT_SIZE);
    for (let u = 0; u < DCT_BITS; u += 1) {
      for (let x = 0; x < DCT_SIZE; x += 1) cosines[u * DCT_SIZE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * DCT_SIZE));
    }
  }
  const table = cosines;
  // Rows first (DCT_SIZE rows x DCT_BITS frequencies), then columns.
  const rows = new Float64Array(DCT_SIZE * DCT_BITS);
  for (let y = 0; y < DCT_SIZE; y += 1) {
    for (let u = 0; u < DCT_BITS; u += 1) {
      let sum = 0;
      for (let x = 0; x < DCT_SIZE; x += 1) sum += (grey[y * DCT_SIZE + x] ?? 0) * (table[u * DCT_SIZE + x] ?? 0);
      rows[y * DCT_BITS + u] = sum;
    }
  }
  const result: number[] = [];
  for (let v = 0; v < DCT_BITS; v += 1) {
    for (let u = 0; u < DCT_BITS; u += 1) {
      let sum = 0;
      for (let y = 0; y < DCT_SIZE; y += 1) sum += (rows[y * DCT_BITS + u] ?? 0) * (table[v * DCT_SIZE + y] ?? 0);
      result.push(sum);
    }
  }
  return result;
}

/** The item attributes of an insight. */
export function insightAttributes(insight: ImageInsight): { Placeholder: string; DominantColor: string; PerceptualHash: string } {
  return { Placeholder: insight.placeholder, DominantColor: insight.dominantColor, PerceptualHash: insight.perceptualHash };
}
