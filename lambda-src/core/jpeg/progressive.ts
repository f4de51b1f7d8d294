import type { OriginalImage, ProcessOptions } from '../image.js';
import { sharp } from '../sharp.js';
import { decodeDcImage, NotDecodable } from './dc-decode.js';
import { dcImageTiff } from './dc-tiff.js';

/** libjpeg's smallest scale: one pixel per 8x8 block. */
export const DC_SCALE = 1 / 8;

/**
 * Sources below this many pixels take today's path: the DC-scan decoder is JavaScript, and on small photos
 * libjpeg-turbo's whole decode costs about the same (issue 18 item 2). Measured on a loaded shared 2-core Xeon, paired
 * interleaved runs, medians of 5, a full GC before every image as the bench does, progressive re-encodes of corpus
 * photos at 0.5-12 MP (libjpeg's and mozjpeg's scan scripts, a thumbnail within 1/8): at 1-2 MP mozjpeg files ran
 * 0.91-1.54x of today's speed on the DC path (break-even), from 4 MP every file 1.3-6.0x, the corpus' 8.3 and
 * 17.9 MP originals 9-13x. 3 MP leaves the break-even band to today's path.
 */
export const DC_MIN_SOURCE_PIXELS = 3_000_000;

let enabled = true;
let minSourcePixels = DC_MIN_SOURCE_PIXELS;

/** Turns the DC-scan path off and on: the bench and the tests measure today's path with it off. */
export function setDcScanDecoding(on: boolean): void {
  enabled = on;
}

/** Sets the cutoff (the tests lower it to check the decoder on small photos); returns the previous one. */
export function setDcScanMinSourcePixels(pixels: number): number {
  const previous = minSourcePixels;
  minSourcePixels = pixels;
  return previous;
}

/**
 * Whether a JPEG of this size, asked for these sizes, is worth reading from its DC scans: every size needs at most
 * 1/8 of it (libjpeg's 1/8 decode is what the DC scans give) and it has at least `minPixels` pixels.
 */
export function dcScanPays(
  source: Pick<OriginalImage, 'width' | 'height'>,
  options: Pick<ProcessOptions, 'sizes' | 'fit'>,
  minPixels: number = DC_MIN_SOURCE_PIXELS,
): boolean {
  return source.width * source.height >= minPixels && largestNeededScale(source, options) <= DC_SCALE;
}

/** What the DC-scan path carries over from the source's header into the image it hands sharp. */
export interface SourceHeader {
  icc?: Buffer | undefined;
  orientation?: number | undefined;
}

/** The largest uniform scale of the source any size needs (as the image core's decodeOnce computes it). */
export function largestNeededScale(source: Pick<OriginalImage, 'width' | 'height'>, options: Pick<ProcessOptions, 'sizes' | 'fit'>): number {
  return Math.max(
    ...options.sizes.map((size) => {
      const x = size.width / source.width;
      const y = size.height / source.height;
      return options.fit === 'contain' || options.fit === 'inside' ? Math.min(x, y) : Math.max(x, y);
    }),
  );
}

/**
 * For a progressive JPEG of at least DC_MIN_SOURCE_PIXELS whose every output needs at most 1/8 of its resolution: the 1/8-scale image decoded from the DC scans alone, as an uncompressed TIFF
 * carrying the source's ICC profile and EXIF orientation, for sharp to read instead of the source. undefined
 * when the fast path does not apply (not progressive, a scale above 1/8, anything unusual): the caller then
 * reads the source as always, so an image this path does not fully understand is never made wrong.
 */
export async function progressiveDcSource(
  input: Buffer,
  source: Pick<OriginalImage, 'format' | 'width' | 'height'>,
  options: Pick<ProcessOptions, 'sizes' | 'fit'>,
  header?: SourceHeader,
): Promise<Buffer | undefined> {
  if (!enabled || source.format !== 'jpeg' || !dcScanPays(source, options, minSourcePixels)) return undefined;
  // SOF2 somewhere in the header: a cheap test before any work (baseline files are shrunk on load by libjpeg).
  if (input[0] !== 0xff || input[1] !== 0xd8 || !hasProgressiveFrame(input)) return undefined;
  let image;
  try {
    image = decodeDcImage(input);
  } catch (error) {
    if (error instanceof NotDecodable) return undefined;
    throw error;
  }
  // The profile and orientation exactly as today's path reads them: the image core's header read when given (no
  // second read, whose decoder warnings would go nowhere), else the header only (no pixels), at the same strictness.
  const { icc, orientation } = header ?? (await sharp(input, { limitInputPixels: false, failOn: 'error' }).metadata());
  return dcImageTiff(image, { icc, orientation });
}

/** Whether a SOF2 marker comes before the first scan (markers walked by their lengths). */
export function hasProgressiveFrame(input: Buffer): boolean {
  let pos = 2;
  while (pos + 4 <= input.length && input[pos] === 0xff) {
    const marker = input[pos + 1] ?? 0;
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker === 0xc2) return true;
    if (marker === 0xda || (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xcc)) return false;
    pos += 2 + input.readUInt16BE(pos + 2);
  }
  return false;
}
