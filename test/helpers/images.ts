import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * Small real images made with sharp inside the tests, so tests need no fixtures and stay fast.
 */

export interface Rgb { r: number; g: number; b: number }
export const RED: Rgb = { r: 255, g: 0, b: 0 };
export const BLUE: Rgb = { r: 0, g: 0, b: 255 };

/** A photo-like image (noise, so encoders have real work) of the given size. */
export async function photo(width: number, height: number, format: 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff' = 'jpeg'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .toFormat(format)
    .toBuffer();
}

export async function solid(width: number, height: number, colour: Rgb, format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' = 'png'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).toFormat(format).toBuffer();
}

/**
 * A JPEG whose stored pixels are `width` x `height`, blue with a red top-left quadrant, tagged with EXIF
 * `orientation` (1-8). A viewer shows it turned/mirrored as the tag says.
 */
export async function orientedJpeg(width: number, height: number, orientation: number): Promise<Buffer> {
  const quadrant = await sharp({ create: { width: width / 2, height: height / 2, channels: 3, background: RED } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: BLUE } })
    .composite([{ input: quadrant, left: 0, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

export async function cmykJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 110, b: 200 } } }).toColourspace('cmyk').jpeg().toBuffer();
}

export async function sixteenBitPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 30, g: 160, b: 90 } } }).toColourspace('rgb16').png().toBuffer();
}

/** A PNG that is fully transparent black: flattened correctly it is white, naively it is black. */
export async function transparentPng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
}

/** An animated GIF (or WebP) of `frames` frames, each a different colour, with delays of 100, 200, ... ms. */
export async function animated(width: number, height: number, frames: number, format: 'gif' | 'webp' = 'gif'): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * frames * 4);
  for (let frame = 0; frame < frames; frame += 1) {
    const shade = Math.round((255 * frame) / Math.max(1, frames - 1));
    for (let i = frame * width * height * 4; i < (frame + 1) * width * height * 4; i += 4) {
      raw[i] = shade;
      raw[i + 1] = 80;
      raw[i + 2] = 255 - shade;
      raw[i + 3] = 255;
    }
  }
  const delay = Array.from({ length: frames }, (_, i) => (i + 1) * 100);
  const image = sharp(raw, { raw: { width, height: height * frames, channels: 4, pageHeight: height } });
  return (format === 'gif' ? image.gif({ delay, loop: 0 }) : image.webp({ delay, loop: 0 })).toBuffer();
}

/**
 * A decompression bomb: a few hundred bytes of PNG whose header declares `width` x `height` 8-bit grey
 * pixels (40000 x 40000 is 1.6 GB decoded), with the start of a valid zlib stream of zero rows.
 */
export function pngBomb(width = 40_000, height = 40_000): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc((width + 1) * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The colour of the pixel at (x, y) of an encoded image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<Rgb & { alpha: number }> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return { r: data[i] ?? -1, g: data[i + 1] ?? -1, b: data[i + 2] ?? -1, alpha: data[i + 3] ?? -1 };
}

/** Whether a colour is close to another (lossy encoders move values a little). */
export function near(actual: Rgb, expected: Rgb, tolerance = 40): boolean {
  return Math.abs(actual.r - expected.r) <= tolerance && Math.abs(actual.g - expected.g) <= tolerance && Math.abs(actual.b - expected.b) <= tolerance;
}
