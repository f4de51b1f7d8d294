import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { classifyImage } from '../../lambda-src/core/classify.js';
import { judgeWarnings } from '../../lambda-src/core/decoder-warnings.js';
import { ImageError } from '../../lambda-src/core/errors.js';
import { apngFrameCount, processImage, type ProcessOptions } from '../../lambda-src/core/image.js';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { ObjectNotFoundError, type PutObjectRequest, type RecordPorts, type SourceObject } from '../../lambda-src/core/process-record.js';
import type { SizeSpec } from '../../lambda-src/core/sizes.js';
import { createHandler } from '../../lambda-src/handler.js';
import { animated } from '../helpers/images.js';

/**
 * Issue 20 on files from public image test suites (test/fixtures/suites/README.md names each source and
 * licence). Each block is one numbered finding; every file here was misjudged before the change.
 */
const SUITES = path.join(import.meta.dirname, '..', 'fixtures', 'suites');
const fixture = (name: string): Promise<Buffer> => readFile(path.join(SUITES, name));

const THUMB: SizeSpec = { name: 'thumb', width: 200, height: 200 };
const SMALL: SizeSpec = { name: 'small', width: 40, height: 40 };
const PATHS = [
  ['one size', [THUMB]],
  ['several sizes', [THUMB, SMALL]],
] as const;

function options(overrides: Partial<ProcessOptions> = {}): ProcessOptions {
  return { sizes: [THUMB], format: 'png', fit: 'cover', maxPixels: 100_000_000, allowUpscale: false, ...overrides };
}

async function imageError(promise: Promise<unknown>): Promise<ImageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageError);
  return error as ImageError;
}

describe('1. the header read is as strict as the decode', () => {
  it('accepts a GIF with a frame warning that decodes fine, recording the warning, in every output format', async () => {
    const gif = await fixture('pillow/test_extents_transparency.gif');
    for (const format of ['png', 'webp', 'original'] as const) {
      for (const [, sizes] of PATHS) {
        const result = await processImage(gif, options({ format, sizes: [...sizes] }));
        expect(result.original).toMatchObject({ format: 'gif', width: 100, height: 100 });
        expect(result.original.warnings).toContain('Invalid frame data');
      }
    }
  });
});

describe('2. only GIF and WebP pages are frames; other multi-image files give their primary image', () => {
  it.each([
    ['pillow/multipage.tiff', 'tiff'],
    ['pillow/g4-multi.tiff', 'tiff'],
    ['sharp/G31D_MULTI.TIF', 'tiff'],
    ['sharp/pitm.avif', 'avif'],
  ])('%s becomes a still WebP of its first image on both paths', async (name, format) => {
    const bytes = await fixture(name);
    const first = await sharp(bytes).metadata();
    for (const [, sizes] of PATHS) {
      const result = await processImage(bytes, options({ format: 'webp', sizes: [...sizes] }));
      expect(result.original).toMatchObject({ format, frames: 1, width: first.width, height: first.height });
      for (const output of result.outputs) {
        expect(output.frames).toBe(1);
        expect((await sharp(output.body).metadata()).pages ?? 1).toBe(1);
      }
    }
  });

  it('still keeps the frames of an animated GIF', async () => {
    const result = await processImage(await animated(60, 40, 3), options({ format: 'webp' }));
    expect(result.outputs[0]?.frames).toBe(3);
  });
});

describe('3. the right code, and a message about the input', () => {
  it.each([
    ['pillow/tiff_tiled_planar_16bit_RGB.tiff', /Tiled TIFFs with separate colour planes/],
    ['pillow/hopper_lzma.tif', /TIFFs with LZMA compression/],
    ['pillow/star.avifs', /AVIF image sequences/],
  ])('%s is UNSUPPORTED_FORMAT naming the variant', async (name, variant) => {
    const error = await imageError(processImage(await fixture(name), options()));
    expect(error.code).toBe('UNSUPPORTED_FORMAT');
    expect(error.message).toMatch(variant);
  });

  it.each([
    // IDAT before IHDR's data is complete (PngSuite x-files are damaged on purpose): libvips' message ends in an empty detail.
    ['pngsuite/xd0n2c08.png'],
    // An IHDR with a bad checksum: libvips' message blames the PNG writer.
    ['pngsuite/xhdn0g08.png'],
  ])('%s is CORRUPT_IMAGE with a detail that describes the input', async (name) => {
    for (const format of ['png', 'webp', 'original'] as const) {
      const error = await imageError(processImage(await fixture(name), options({ format })));
      expect(error.code).toBe('CORRUPT_IMAGE');
      expect(error.message).not.toMatch(/:\s*\)|unable to write to target/);
      expect(error.message).toMatch(/^The PNG data is corrupt or truncated \(.+\)\.$/);
    }
  });
});

/** An uncompressed one-channel little-endian TIFF with the given samples (made here: the suites hold no small float TIFF). */
function tiffOf(samples: Buffer, width: number, height: number, bitsPerSample: number, sampleFormat: number): Buffer {
  const entries: [number, number, number][] = [
    [256, 3, width],
    [257, 3, height],
    [258, 3, bitsPerSample],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0], // patched below: the strip follows the IFD
    [277, 3, 1],
    [278, 3, height],
    [279, 4, samples.length],
    [339, 3, sampleFormat],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const header = Buffer.alloc(8 + ifdSize);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  header.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    header.writeUInt16LE(tag, at);
    header.writeUInt16LE(type, at + 2);
    header.writeUInt32LE(1, at + 4);
    if (type === 3) header.writeUInt16LE(value, at + 8);
    else header.writeUInt32LE(tag === 273 ? header.length : value, at + 8);
  });
  return Buffer.concat([header, samples]);
}

describe('4. signed, 32-bit integer and floating-point samples are refused, not clipped to 8 bits', () => {
  it.each([
    ['pillow/8bit.s.tif', /signed 8-bit integer samples/],
    ['pillow/16bit.s.tif', /signed 16-bit integer samples/],
    ['pillow/16_bit_binary_pgm.tiff', /signed 32-bit integer samples/],
  ])('%s is UNSUPPORTED_FORMAT naming its samples', async (name, samples) => {
    const error = await imageError(processImage(await fixture(name), options()));
    expect(error.code).toBe('UNSUPPORTED_FORMAT');
    expect(error.message).toMatch(samples);
  });

  it('refuses a 32-bit float TIFF (values 0-1, which the old path wrote as a black image)', async () => {
    const floats = Buffer.alloc(16 * 16 * 4);
    for (let i = 0; i < 256; i++) floats.writeFloatLE(i / 255, i * 4);
    const tiff = tiffOf(floats, 16, 16, 32, 3);
    expect((await sharp(tiff).metadata()).depth).toBe('float');
    const error = await imageError(processImage(tiff, options()));
    expect(error.code).toBe('UNSUPPORTED_FORMAT');
    expect(error.message).toMatch(/32-bit floating-point samples/);
  });
});

/** hopper.jpg with its JFIF version set to 3.3, which libjpeg warns about and ignores. */
async function unknownJfifRevision(): Promise<Buffer> {
  const jpeg = Buffer.from(await fixture('pillow/hopper.jpg'));
  const app0 = jpeg.indexOf(Buffer.from('JFIF\0', 'latin1'));
  expect(app0).toBeGreaterThan(0);
  jpeg[app0 + 5] = 3;
  jpeg[app0 + 6] = 3;
  return jpeg;
}

describe('5. damaged decodes are refused; harmless warnings are recorded, the same everywhere', () => {
  it('refuses a JPEG with garbage inside its scan (extraneous bytes before a restart marker), on both paths', async () => {
    const jpeg = await fixture('pillow/hopper_bad_exif.jpg');
    for (const [, sizes] of PATHS) {
      const error = await imageError(processImage(jpeg, options({ sizes: [...sizes] })));
      expect(error.code).toBe('CORRUPT_IMAGE');
      expect(error.message).toMatch(/pixel data is damaged .*before marker 0xd0/);
      expect(error.source).toMatchObject({ format: 'jpeg', width: 500, height: 500 });
    }
  });

  it('refuses a JPEG whose data ends early', async () => {
    const error = await imageError(processImage(await fixture('pillow/truncated_jpeg.jpg'), options()));
    expect(error.code).toBe('CORRUPT_IMAGE');
    expect(error.message).toMatch(/premature end/);
  });

  it.each([
    ['stray bytes before a table segment', 'pillow/truncated_app14.jpg', /extraneous bytes before marker 0xdb/],
    ['stray bytes before a table segment (2)', 'pillow/jpeg_ff00_header.jpg', /extraneous bytes before marker 0xdb/],
  ])('accepts a JPEG with %s, carrying the warning, on every path and format', async (_, name, warning) => {
    const jpeg = await fixture(name);
    for (const format of ['png', 'webp', 'original'] as const) {
      for (const [, sizes] of PATHS) {
        const result = await processImage(jpeg, options({ format, sizes: [...sizes] }));
        expect(result.original.warnings.some((line) => warning.test(line))).toBe(true);
      }
    }
  });

  it('accepts a JPEG with an unknown JFIF revision (refused at the header read before), carrying the warning', async () => {
    const jpeg = await unknownJfifRevision();
    for (const [, sizes] of PATHS) {
      const result = await processImage(jpeg, options({ sizes: [...sizes] }));
      expect(result.original.warnings).toEqual(['VipsJpeg: Warning: unknown JFIF revision number 3.03']);
    }
  });

  it('draws the line on pixel data: scan damage is damage, bookkeeping is not', () => {
    expect(judgeWarnings(['VipsJpeg: Corrupt JPEG data: 4 extraneous bytes before marker 0xd5\n'])).toMatchObject({ damaged: true });
    expect(judgeWarnings(['VipsJpeg: Corrupt JPEG data: premature end of data segment\n'])).toMatchObject({ damaged: true });
    expect(judgeWarnings(['read gave 2 warnings', 'VipsJpeg: Corrupt JPEG data: 4 extraneous bytes before marker 0xdb\nVipsJpeg: Corrupt JPEG data: 4 extraneous bytes before marker 0xdb\n'])).toEqual({
      damaged: false,
      warnings: ['VipsJpeg: Corrupt JPEG data: 4 extraneous bytes before marker 0xdb'],
    });
  });

  it('a clean file carries no warnings', async () => {
    for (const name of ['pngsuite/basn2c08.png', 'pngsuite/basi2c08.png', 'pillow/hopper.jpg']) {
      expect((await processImage(await fixture(name), options())).original.warnings).toEqual([]);
    }
  });
});

describe('warnings stay with their image', () => {
  it('gives the same outcomes when damaged and clean files are processed at once as one by one', async () => {
    const names = ['pillow/hopper_bad_exif.jpg', 'pillow/hopper.jpg', 'pillow/truncated_app14.jpg', 'pngsuite/basn2c08.png', 'pillow/test_extents_transparency.gif', 'pillow/hopper.jpg'];
    const files = await Promise.all(names.map(fixture));
    const outcome = (promise: Promise<{ original: { warnings: string[] } }>): Promise<string> =>
      promise.then(
        (result) => `ok ${result.original.warnings.join('|')}`,
        (error: unknown) => (error as ImageError).code,
      );
    const oneByOne: string[] = [];
    for (const file of files) oneByOne.push(await outcome(processImage(file, options())));
    const atOnce = await Promise.all(files.map((file) => outcome(processImage(file, options({ sizes: [THUMB, SMALL] })))));
    expect(atOnce).toEqual(oneByOne);
    expect(oneByOne[0]).toBe('CORRUPT_IMAGE');
    expect(oneByOne[1]).toBe('ok ');
  });
});

describe('6. APNG', () => {
  it('keeps the first frame and says so (libvips reads no APNG frames)', async () => {
    const apng = await fixture('pillow/apng_delay.png');
    expect(apngFrameCount(apng)).toBe(4);
    for (const format of ['png', 'webp'] as const) {
      const result = await processImage(apng, options({ format }));
      expect(result.outputs[0]?.frames).toBe(1);
      expect(result.original.warnings).toContain('APNG animation of 4 frames: only the first frame was kept.');
    }
    expect(apngFrameCount(await fixture('pngsuite/basn2c08.png'))).toBeUndefined();
  });
});

/** S3 and DynamoDB in memory, as the AWS ports behave for processRecord. */
class MemoryPorts implements RecordPorts {
  readonly objects = new Map<string, { body: Buffer; eTag: string }>();
  readonly items = new Map<string, MetadataItem>();

  put(key: string, body: Buffer): string {
    const eTag = createHash('md5').update(body).digest('hex');
    this.objects.set(key, { body, eTag });
    return eTag;
  }

  getObject(_bucket: string, key: string): Promise<SourceObject> {
    const object = this.objects.get(key);
    if (!object) return Promise.reject(new ObjectNotFoundError());
    return Promise.resolve({
      contentLength: object.body.length,
      eTag: object.eTag,
      lastModified: new Date('2026-01-01T00:00:00Z'),
      read: () => Promise.resolve(object.body),
      discard: () => undefined,
    });
  }

  putObject(_request: PutObjectRequest): Promise<void> {
    return Promise.resolve();
  }

  putItem(item: MetadataItem): Promise<void> {
    this.items.set(item.OriginalFile, item);
    return Promise.resolve();
  }
}

describe('the function records the core\'s judgement of every suite file', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('gives each fixture the outcome classifyImage gives it, with the warnings on the item', async () => {
    // The handler logs a line per record; the items are what is checked.
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const names: string[] = [];
    for (const suite of ['pillow', 'sharp', 'pngsuite']) {
      for (const file of await readdir(path.join(SUITES, suite))) if (file !== 'LICENSE') names.push(`${suite}/${file}`);
    }
    const ports = new MemoryPorts();
    const handler = createHandler({ env: { DEST_BUCKET: 'resized', TABLE_NAME: 'images', SOURCE_BUCKET: 'uploads', SIZES: 'thumb=200x200' }, ports });
    let failed = 0;
    for (const name of names) {
      const bytes = await fixture(name);
      const eTag = ports.put(name, bytes);
      await handler({
        Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'uploads' }, object: { key: encodeS3EventKey(name), size: bytes.length, eTag } } }],
      });
      const item = ports.items.get(name);
      const verdict = await classifyImage(bytes, { maxPixels: 100_000_000 });
      if (verdict.ok) {
        expect(item, name).toMatchObject({ Status: 'SUCCEEDED', OriginalFormat: verdict.original.format });
        expect(item?.Warnings ?? [], name).toEqual(verdict.original.warnings);
      } else {
        failed++;
        expect(item, name).toMatchObject({ Status: 'FAILED', ErrorCode: verdict.code, ErrorMessage: verdict.message });
      }
    }
    // The sample holds both outcomes, so the comparison means something either way.
    expect(failed).toBeGreaterThan(5);
    expect(names.length - failed).toBeGreaterThan(5);
  });
});
