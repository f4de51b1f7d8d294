import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { ImageError } from '../../lambda-src/core/errors.js';
import { sharp as coreSharp } from '../../lambda-src/core/sharp.js';
import { processImage, type ProcessOptions } from '../../lambda-src/core/image.js';
import type { FitMode, OutputFormat } from '../../lambda-src/core/settings.js';
import type { SizeSpec } from '../../lambda-src/core/sizes.js';
import {
  BLUE,
  RED,
  animated,
  cmykJpeg,
  near,
  orientedJpeg,
  photo,
  pixelAt,
  pngBomb,
  sixteenBitPng,
  solid,
  transparentPng,
} from '../helpers/images.js';

const BOX: SizeSpec = { name: 'box', width: 100, height: 100 };
const SMALL: SizeSpec = { name: 'small', width: 30, height: 30 };

function options(overrides: Partial<ProcessOptions> = {}): ProcessOptions {
  return { sizes: [BOX], format: 'png', fit: 'cover', maxPixels: 100_000_000, allowUpscale: false, ...overrides };
}

/** One size takes the streaming path, several the decode-once path: every behaviour must hold on both. */
const PATHS = [
  ['one size', [BOX]],
  ['several sizes', [BOX, SMALL]],
] as const;

async function expectImageError(promise: Promise<unknown>, code: string): Promise<ImageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageError);
  expect((error as ImageError).code).toBe(code);
  return error as ImageError;
}

describe('processImage: fit modes', () => {
  const expected: Record<FitMode, [number, number]> = { cover: [100, 100], contain: [100, 100], inside: [100, 67], fill: [100, 100] };

  it.each(Object.entries(expected))('%s gives %j from 300x200 on both paths', async (fit, [width, height]) => {
    const source = await photo(300, 200);
    for (const [, sizes] of PATHS) {
      const { outputs } = await processImage(source, options({ sizes: [...sizes], fit: fit as FitMode }));
      expect(outputs[0]).toMatchObject({ width, height });
      const meta = await sharp(outputs[0]!.body).metadata();
      expect([meta.width, meta.height]).toEqual([width, height]);
    }
  });

  it('crops for cover and pads for contain: transparent in PNG, white in JPEG', async () => {
    const source = await solid(300, 100, RED, 'png');
    const contained = await processImage(source, options({ fit: 'contain' }));
    expect(await pixelAt(contained.outputs[0]!.body, 50, 2)).toMatchObject({ alpha: 0 });
    expect(near(await pixelAt(contained.outputs[0]!.body, 50, 50), RED)).toBe(true);
    const jpeg = await processImage(source, options({ fit: 'contain', format: 'jpeg' }));
    expect(near(await pixelAt(jpeg.outputs[0]!.body, 50, 2), { r: 255, g: 255, b: 255 })).toBe(true);
    const covered = await processImage(source, options({ fit: 'cover' }));
    expect(near(await pixelAt(covered.outputs[0]!.body, 50, 2), RED)).toBe(true);
  });

  it('never enlarges unless asked', async () => {
    const source = await photo(50, 40);
    for (const [, sizes] of PATHS) {
      const kept = await processImage(source, options({ sizes: [...sizes], fit: 'inside' }));
      expect(kept.outputs.map((o) => [o.width, o.height])).toEqual([[50, 40], [30, 24]].slice(0, sizes.length));
      const covered = await processImage(source, options({ sizes: [...sizes], fit: 'cover' }));
      expect(covered.outputs[0]).toMatchObject({ width: 50, height: 40 });
      const enlarged = await processImage(source, options({ sizes: [...sizes], fit: 'inside', allowUpscale: true }));
      expect(enlarged.outputs[0]).toMatchObject({ width: 100, height: 80 });
    }
  });

  it('gives the same dimensions on both paths for every fit and several boxes', async () => {
    const source = await photo(640, 427);
    const sizes: SizeSpec[] = [
      { name: 'a', width: 200, height: 200 },
      { name: 'b', width: 333, height: 100 },
      { name: 'c', width: 50, height: 400 },
      { name: 'd', width: 640, height: 427 },
    ];
    for (const fit of ['cover', 'contain', 'inside', 'fill'] as const) {
      const together = await processImage(source, options({ sizes, fit }));
      for (const [i, size] of sizes.entries()) {
        const alone = await processImage(source, options({ sizes: [size], fit }));
        expect([together.outputs[i]!.width, together.outputs[i]!.height], `${fit} ${size.name}`).toEqual([alone.outputs[0]!.width, alone.outputs[0]!.height]);
      }
    }
  });
});

describe('processImage: formats', () => {
  const cases: [OutputFormat, string, string][] = [
    ['png', 'png', 'image/png'],
    ['jpeg', 'jpeg', 'image/jpeg'],
    ['webp', 'webp', 'image/webp'],
    ['avif', 'heif', 'image/avif'],
  ];

  it.each(cases)('writes %s with a matching Content-Type', async (format, detected, contentType) => {
    const source = await photo(120, 90);
    for (const [, sizes] of PATHS) {
      const { original, outputs } = await processImage(source, options({ sizes: [...sizes], format, quality: 60 }));
      expect(original).toEqual({ format: 'jpeg', width: 120, height: 90, bytes: source.length, frames: 1, warnings: [] });
      for (const output of outputs) {
        expect(output).toMatchObject({ format, contentType, bytes: output.body.length });
        expect((await sharp(output.body).metadata()).format).toBe(detected);
      }
    }
  });

  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
    ['gif', 'image/gif'],
    ['tiff', 'image/tiff'],
  ] as const)('keeps a %s source as it is with original', async (format, contentType) => {
    const source = await solid(80, 60, BLUE, format);
    const { original, outputs } = await processImage(source, options({ format: 'original' }));
    expect(original.format).toBe(format);
    expect(outputs[0]).toMatchObject({ format, contentType });
    expect((await sharp(outputs[0]!.body).metadata()).format).toBe(format);
  });

  it('detects the type from the bytes, not a name', async () => {
    const png = await solid(40, 40, RED, 'png');
    const { original } = await processImage(png, options({ format: 'original' }));
    expect(original.format).toBe('png');
  });
});

describe('processImage: EXIF orientation', () => {
  // Where the stored top-left (red) quadrant appears once the orientation is applied.
  const corner: Record<number, 'tl' | 'tr' | 'bl' | 'br'> = { 1: 'tl', 2: 'tr', 3: 'br', 4: 'bl', 5: 'tl', 6: 'tr', 7: 'br', 8: 'bl' };

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('applies orientation %i on both paths', async (orientation) => {
    const source = await orientedJpeg(60, 40, orientation);
    const turned = orientation >= 5;
    for (const [, sizes] of PATHS) {
      const { original, outputs } = await processImage(source, options({ sizes: [...sizes], fit: 'inside' }));
      expect([original.width, original.height]).toEqual(turned ? [40, 60] : [60, 40]);
      const out = outputs[0]!;
      expect([out.width, out.height]).toEqual(turned ? [40, 60] : [60, 40]);
      const points = { tl: [2, 2], tr: [out.width - 3, 2], bl: [2, out.height - 3], br: [out.width - 3, out.height - 3] } as const;
      for (const [name, [x, y]] of Object.entries(points)) {
        const colour = await pixelAt(out.body, x, y);
        expect(near(colour, name === corner[orientation] ? RED : BLUE), `${name} of orientation ${orientation}`).toBe(true);
      }
      expect((await sharp(out.body).metadata()).orientation).toBeUndefined();
    }
  });
});

describe('processImage: colour, depth, alpha, metadata', () => {
  it('converts CMYK JPEG to sRGB', async () => {
    const source = await cmykJpeg(80, 60);
    expect((await sharp(source).metadata()).space).toBe('cmyk');
    for (const [, sizes] of PATHS) {
      const { outputs } = await processImage(source, options({ sizes: [...sizes] }));
      const meta = await sharp(outputs[0]!.body).metadata();
      expect(meta).toMatchObject({ space: 'srgb', channels: 3, hasProfile: false });
      expect(near(await pixelAt(outputs[0]!.body, 10, 10), { r: 40, g: 110, b: 200 }, 45)).toBe(true);
    }
  });

  it('reads 16-bit PNG', async () => {
    const source = await sixteenBitPng(90, 60);
    expect((await sharp(source).metadata()).depth).toBe('ushort');
    for (const [, sizes] of PATHS) {
      const { original, outputs } = await processImage(source, options({ sizes: [...sizes], fit: 'inside' }));
      expect(original).toMatchObject({ format: 'png', width: 90, height: 60 });
      expect(outputs[0]).toMatchObject({ width: 90, height: 60 });
      expect(near(await pixelAt(outputs[0]!.body, 5, 5), { r: 30, g: 160, b: 90 }, 3)).toBe(true);
    }
  });

  it('flattens transparency on white for JPEG, keeps it for PNG', async () => {
    const source = await transparentPng(60, 60);
    for (const [, sizes] of PATHS) {
      const jpeg = await processImage(source, options({ sizes: [...sizes], format: 'jpeg' }));
      expect(await pixelAt(jpeg.outputs[0]!.body, 5, 5)).toMatchObject({ r: 255, g: 255, b: 255 });
      const png = await processImage(source, options({ sizes: [...sizes], format: 'png' }));
      expect(await pixelAt(png.outputs[0]!.body, 5, 5)).toMatchObject({ alpha: 0 });
    }
  });

  it('keeps an RGB colour profile, untouched, and strips EXIF', async () => {
    const source = await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 200, g: 30, b: 30 } } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'someone', Artist: 'someone' } })
      .jpeg()
      .toBuffer();
    const sourceMeta = await sharp(source).metadata();
    expect(sourceMeta.exif).toBeDefined();
    for (const [, sizes] of PATHS) {
      for (const format of ['png', 'jpeg', 'webp'] as const) {
        const { outputs } = await processImage(source, options({ sizes: [...sizes], format }));
        for (const output of outputs) {
          const meta = await sharp(output.body).metadata();
          expect(meta.icc?.equals(sourceMeta.icc!), `${format} ${output.size.name}`).toBe(true);
          expect(meta.exif).toBeUndefined();
        }
      }
    }
  });
});

describe('processImage: animation', () => {
  it.each([
    ['original', 'gif'],
    ['webp', 'webp'],
  ] as const)('keeps the frames and delays of an animated GIF with format %s', async (format, written) => {
    const source = await animated(40, 30, 3);
    for (const [, sizes] of PATHS) {
      const { original, outputs } = await processImage(source, options({ sizes: [...sizes], format, fit: 'inside' }));
      expect(original).toMatchObject({ format: 'gif', width: 40, height: 30, frames: 3 });
      expect(outputs[0]).toMatchObject({ format: written, frames: 3, width: 40, height: 30 });
      const meta = await sharp(outputs[0]!.body, { animated: true }).metadata();
      expect(meta).toMatchObject({ format: written, pages: 3, delay: [100, 200, 300], loop: 0, width: 40 });
      if (sizes.length > 1) {
        const alone = await processImage(source, options({ sizes: [SMALL], format, fit: 'inside' }));
        expect(outputs[1]).toMatchObject({ frames: 3, width: 30, height: alone.outputs[0]!.height });
      }
    }
  });

  it('keeps the frames of an animated WebP', async () => {
    const source = await animated(40, 30, 4, 'webp');
    const { outputs } = await processImage(source, options({ sizes: [BOX, SMALL], format: 'original', fit: 'inside' }));
    expect(outputs.map((o) => [o.format, o.frames])).toEqual([['webp', 4], ['webp', 4]]);
  });

  it.each(['png', 'jpeg', 'avif'] as const)('takes the first frame for %s', async (format) => {
    const source = await animated(40, 30, 3);
    for (const [, sizes] of PATHS) {
      const { outputs } = await processImage(source, options({ sizes: [...sizes], format, fit: 'inside' }));
      expect(outputs[0]).toMatchObject({ frames: 1, width: 40, height: 30 });
      expect((await sharp(outputs[0]!.body).metadata()).pages ?? 1).toBe(1);
      // The first frame is the blue one.
      expect(near(await pixelAt(outputs[0]!.body, 5, 5), { r: 0, g: 80, b: 255 })).toBe(true);
    }
  });
});

describe('processImage: bad input', () => {
  it('fails zero bytes as EMPTY_OBJECT', async () => {
    await expectImageError(processImage(Buffer.alloc(0), options()), 'EMPTY_OBJECT');
  });

  it('fails text and other files as UNSUPPORTED_FORMAT', async () => {
    await expectImageError(processImage(Buffer.from('just some text\n'), options()), 'UNSUPPORTED_FORMAT');
    const pdf = await expectImageError(processImage(Buffer.from('%PDF-1.7\n1 0 obj\n'), options()), 'UNSUPPORTED_FORMAT');
    expect(pdf.message).toContain('PDF');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expectImageError(processImage(svg, options()), 'UNSUPPORTED_FORMAT');
  });

  it.each(['jpeg', 'png', 'webp'] as const)('fails a truncated %s as CORRUPT_IMAGE on both paths', async (format) => {
    const whole = await photo(400, 300, format);
    for (const cut of [whole.subarray(0, Math.floor(whole.length / 2)), whole.subarray(0, 40)]) {
      for (const [, sizes] of PATHS) {
        const error = await expectImageError(processImage(cut, options({ sizes: [...sizes] })), 'CORRUPT_IMAGE');
        expect(error.message).toMatch(/corrupt or truncated/);
      }
    }
  });

  it('fails a decompression bomb as TOO_MANY_PIXELS from its header, without decoding it', async () => {
    const bomb = pngBomb(40_000, 40_000);
    expect(bomb.length).toBeLessThan(2_000);
    // Spies that call through to the real sharp as the core loads it (lambda-src/core/sharp.ts): metadata()
    // reads the header only; every decode of the core's image path ends in toBuffer().
    const headerReads = vi.spyOn(coreSharp.prototype, 'metadata');
    const decodes = vi.spyOn(coreSharp.prototype, 'toBuffer');
    try {
      for (const [path, sizes] of PATHS) {
        // The spies see the core's work: a real photo is read from its header, then decoded.
        await processImage(await photo(40, 30), options({ sizes: [...sizes] }));
        expect(headerReads, path).toHaveBeenCalled();
        expect(decodes, path).toHaveBeenCalled();
        headerReads.mockClear();
        decodes.mockClear();

        // Decoding the bomb would need 1.6 GB. It is refused by the header check (this message, not the
        // decoder's pixel limit), after one header read and no decode.
        const error = await expectImageError(processImage(bomb, options({ sizes: [...sizes] })), 'TOO_MANY_PIXELS');
        expect(error.message, path).toBe('The image has 40000x40000 pixels (1600000000); the limit is 100000000.');
        expect(error.source, path).toMatchObject({ format: 'png', width: 40_000, height: 40_000 });
        expect(headerReads, path).toHaveBeenCalledTimes(1);
        expect(decodes, path).not.toHaveBeenCalled();
        headerReads.mockClear();
      }
    } finally {
      headerReads.mockRestore();
      decodes.mockRestore();
    }
  });

  it('counts every kept frame against the pixel limit', async () => {
    const source = await animated(40, 30, 3);
    await expectImageError(processImage(source, options({ format: 'original', maxPixels: 40 * 30 * 2 })), 'TOO_MANY_PIXELS');
    const { outputs } = await processImage(source, options({ format: 'png', maxPixels: 40 * 30 * 2 }));
    expect(outputs).toHaveLength(1);
  });

  it('fails over the byte limit as TOO_LARGE', async () => {
    const source = await photo(100, 100);
    await expectImageError(processImage(source, options({ maxBytes: source.length - 1 })), 'TOO_LARGE');
  });
});

/** The zlib FLEVEL (0 fastest ... 2 default ... 3 best) of a PNG's first IDAT chunk. */
function zlibLevelClass(png: Buffer): number {
  const idat = png.indexOf('IDAT', 8, 'latin1');
  return png[idat + 5]! >> 6;
}

describe('processImage: several sizes', () => {
  it('compresses the largest PNG as a single size would, the others with less zlib effort', async () => {
    const input = await photo(640, 480, 'png');
    const sizes: SizeSpec[] = [
      { name: 'small', width: 120, height: 120 },
      { name: 'large', width: 400, height: 400 },
      { name: 'medium', width: 200, height: 200 },
    ];
    const options: ProcessOptions = { sizes, format: 'png', fit: 'cover', maxPixels: 100_000_000, allowUpscale: false };
    const { outputs } = await processImage(input, options);
    expect(outputs.map((o) => [o.size.name, zlibLevelClass(o.body)])).toEqual([['small', 1], ['large', 2], ['medium', 1]]);
    const alone = await processImage(input, { ...options, sizes: [sizes[0]!] });
    expect(zlibLevelClass(alone.outputs[0]!.body)).toBe(2);
  });
});
