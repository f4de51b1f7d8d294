import type { Rgb } from './colour.js';
import { judgeWarnings } from './decoder-warnings.js';
import { ImageError } from './errors.js';
import { progressiveDcSource, type SourceHeader } from './jpeg/progressive.js';
import { canonicalFormat } from './keys.js';
import type { FitMode, OutputFormat } from './settings.js';
import { sharp, type Metadata, type Sharp, type SharpOptions } from './sharp.js';
import type { SizeSpec } from './sizes.js';

/** Formats the function writes. `tiff` only for `original` of a TIFF source. */
export type WrittenFormat = 'png' | 'jpeg' | 'webp' | 'avif' | 'gif' | 'tiff';
/** Source formats the core reads (detected from the bytes). */
export const READABLE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const;
export type ReadableFormat = (typeof READABLE_FORMATS)[number];

export interface ProcessOptions {
  sizes: readonly SizeSpec[];
  format: OutputFormat;
  fit: FitMode;
  /** Largest width x height (x frames, for animations that are kept) accepted; checked before decoding. */
  maxPixels: number;
  maxBytes?: number | undefined;
  allowUpscale: boolean;
  /** 1-100 for jpeg, webp and avif; the encoder's default when absent. PNG is lossless and ignores it. */
  quality?: number | undefined;
  /** What transparent pixels are flattened onto in a format without alpha (JPEG), and its `contain` padding; white when absent. */
  background?: Rgb | undefined;
}

const WHITE: Rgb = { r: 255, g: 255, b: 255 };

export interface OriginalImage {
  format: ReadableFormat;
  /** After EXIF orientation. */
  width: number;
  height: number;
  bytes: number;
  /** Frames of an animation, 1 for a still image (and for a multi-page document, which gives its first page). */
  frames: number;
  /**
   * What the decoders reported about a source they decoded without visible damage (malformed metadata, an
   * animation kept as its first frame), one line each; empty for a clean file. See decoder-warnings.ts.
   */
  warnings: string[];
}

export interface ProcessedOutput {
  size: SizeSpec;
  format: WrittenFormat;
  contentType: string;
  body: Buffer;
  width: number;
  /** Of one frame, for animations. */
  height: number;
  bytes: number;
  frames: number;
}

export interface ProcessedImage {
  original: OriginalImage;
  outputs: ProcessedOutput[];
}

const CONTENT_TYPES: Record<WrittenFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
};

/**
 * zlib level of the PNG outputs other than the largest when there are several sizes (the largest, and a single
 * size, keep sharp's 6). PNG is lossless, so only the bytes change: measured on the corpus at 800 and 200 px,
 * +0.7% bytes for photos, +9-32% for flat graphics, for deflate ~2x faster on graphics (Gulp.png's 800 px:
 * 80 ms at 6, 22 ms at 4). Levels 1-3 save little more time on photos and cost up to 3x the bytes on graphics.
 */
export const DERIVED_PNG_COMPRESSION = 4;

/** What a source decodes as, and how its outputs are made. */
interface Plan {
  source: OriginalImage;
  /** The format every output is written in. */
  format: WrittenFormat;
  /** Keep every frame (animated source, gif or webp output). */
  animated: boolean;
  delay: number[] | undefined;
  loop: number | undefined;
  /** Keep the source's ICC profile (pixels stay in its colour space); otherwise convert to sRGB. */
  keepProfile: boolean;
  /** Input options of every pipeline that reads the source. */
  load: SharpOptions;
  /** What planning found to say (an APNG kept as its first frame), recorded with the decoder's warnings. */
  notes: string[];
  /** The header's colour profile and EXIF orientation, for a source read from its DC scans (see jpeg/). */
  header: SourceHeader;
}

/**
 * How strictly every read of the source fails, the header read and the decode alike: on errors and truncation,
 * not on warnings, which are collected and judged instead (see decoder-warnings.ts). One value for both, so a
 * file whose header passes is never refused by its decode for a warning, nor the other way round.
 */
const FAIL_ON = 'error' as const;

/** Sources whose extra pages are frames of an animation; in every other format they are further images (pages
 * of a document, a fax, an AVIF's alternates), and the primary image alone is the picture. */
const ANIMATED_FORMATS: readonly ReadableFormat[] = ['gif', 'webp'];

/** Sample formats (sharp's `depth`) whose values map onto display levels without a guess. */
const DISPLAYABLE_DEPTHS: readonly string[] = ['uchar', 'ushort'];

/** Reads of the source, each reporting its decoder warnings into one list. */
function reader(input: Buffer, options: SharpOptions, events: string[]): Sharp {
  return sharp(input, options).on('warning', (warning: string) => {
    events.push(warning);
  });
}

/**
 * Resizes one image to every size: type from the bytes, EXIF orientation applied, metadata stripped except the
 * colour profile, never distorted unless `fill`, never enlarged unless allowed, frames kept where the output
 * format can hold them.
 *
 * Decoding dominates the cost, so the source is decoded once: with one size the decode streams straight into
 * the encoder; with several, the source is decoded and shrunk once to the smallest scale that still serves the
 * largest size (letting JPEG shrink-on-load skip most of the work), kept as uncompressed pixels, and every
 * size is cut from that.
 *
 * @throws ImageError for permanent problems with the image (unsupported, corrupt, over a limit).
 */
export async function processImage(input: Buffer, options: ProcessOptions): Promise<ProcessedImage> {
  if (options.sizes.length === 0) throw new Error('processImage needs at least one size');
  if (input.length === 0) throw new ImageError('EMPTY_OBJECT', 'The file is empty (0 bytes).');
  if (options.maxBytes !== undefined && input.length > options.maxBytes) {
    throw new ImageError('TOO_LARGE', `The file has ${input.length} bytes; the limit is ${options.maxBytes}.`);
  }
  return oneImageAtATime(() => processChecked(input, options));
}

/**
 * sharp hands libvips' warnings to whichever operation of the process finishes next (one process-wide queue),
 * so two images in flight could swap warnings: a clean image refused for the other's damage, a damaged one
 * passed. Images are therefore processed one at a time per process. The function does so anyway (one record
 * at a time); a caller running several at once (the CLI's batch) keeps its overlap of reads and writes.
 */
let imagesInFlight: Promise<unknown> = Promise.resolve();
function oneImageAtATime<T>(work: () => Promise<T>): Promise<T> {
  const result = imagesInFlight.then(work);
  imagesInFlight = result.catch(() => undefined);
  return result;
}

async function processChecked(input: Buffer, options: ProcessOptions): Promise<ProcessedImage> {
  const events: string[] = [];
  const plan = await planImage(input, options, events);
  // A progressive JPEG whose sizes all need at most 1/8 of it is read from its DC scans alone (see jpeg/).
  // sharp then decodes a TIFF, not the JPEG: damage inside the AC scans (no output pixel at 1/8) gives no warning
  // here, where the full decode would refuse the file (see README, Performance).
  const pixels = (await progressiveDcSource(input, plan.source, options, plan.header)) ?? input;
  const outputs: ProcessedOutput[] = [];
  if (options.sizes.length === 1) {
    const [size] = options.sizes as [SizeSpec];
    outputs.push(await render(reader(pixels, plan.load, events), size, plan, options));
  } else {
    const intermediate = await decodeOnce(pixels, plan, options, events);
    // The sizes are independent once decoded: encoding them side by side uses every core the function has
    // (sharp runs each pipeline on one thread here), and libuv's pool of four bounds how many run at once.
    // The largest output is encoded as a single size would be; the others, extra work that one size does not
    // pay for, compress PNG with less effort (see DERIVED_PNG_COMPRESSION).
    const largest = largestSize(options.sizes);
    outputs.push(
      ...(await Promise.all(
        options.sizes.map((size) => render(intermediate(), size, plan, options, size === largest ? undefined : DERIVED_PNG_COMPRESSION)),
      )),
    );
  }
  // Warnings of the header read and of the decode, judged once every pixel has been decoded.
  const verdict = judgeWarnings(events);
  if (verdict.damaged) {
    throw new ImageError('CORRUPT_IMAGE', `The ${plan.source.format.toUpperCase()} pixel data is damaged (${verdict.damage}); the decoded image would show it.`, {
      source: { format: plan.source.format, width: plan.source.width, height: plan.source.height },
    });
  }
  const warnings = [...verdict.warnings, ...plan.notes];
  return { original: { ...plan.source, warnings }, outputs };
}

async function planImage(input: Buffer, options: ProcessOptions, events: string[]): Promise<Plan> {
  let metadata: Metadata;
  try {
    // The header only: no pixels are decoded, so the limit is checked below, with the dimensions in the message.
    metadata = await reader(input, { limitInputPixels: false, failOn: FAIL_ON }, events).metadata();
  } catch (error) {
    throw unreadable(input, error);
  }
  const format = readableFormat(metadata);
  refuseUnusualSamples(metadata, format);
  const outputFormat = resolveOutputFormat(options.format, format);
  const orientation = metadata.orientation ?? 1;
  // Only GIF and WebP pages are frames; any other multi-page source gives its primary image.
  const pages = ANIMATED_FORMATS.includes(format) ? (metadata.pages ?? 1) : 1;
  const notes: string[] = [];
  const apngFrames = format === 'png' ? apngFrameCount(input) : undefined;
  // libvips reads an APNG's default image only; say so rather than drop the animation without a word.
  if (apngFrames !== undefined && apngFrames > 1) notes.push(`APNG animation of ${apngFrames} frames: only the first frame was kept.`);
  const turned = orientation >= 5;
  const source: OriginalImage = {
    format,
    width: turned ? metadata.height : metadata.width,
    height: turned ? metadata.width : metadata.height,
    bytes: input.length,
    frames: pages,
    warnings: [],
  };
  // Multi-frame images cannot be turned by 90 degrees in sharp; such rare files (EXIF-rotated animated WebP)
  // give their first frame.
  const animated = pages > 1 && (outputFormat === 'gif' || outputFormat === 'webp') && orientation < 5;
  const frames = animated ? pages : 1;
  const pixels = metadata.width * metadata.height * frames;
  if (pixels > options.maxPixels) {
    const what = frames > 1 ? `${metadata.width}x${metadata.height} pixels in ${frames} frames` : `${metadata.width}x${metadata.height} pixels`;
    throw new ImageError('TOO_MANY_PIXELS', `The image has ${what} (${pixels}); the limit is ${options.maxPixels}.`, { source });
  }
  return {
    source,
    notes,
    header: { icc: metadata.icc, orientation: metadata.orientation },
    format: outputFormat,
    animated,
    delay: animated ? metadata.delay : undefined,
    loop: animated ? metadata.loop : undefined,
    // A CMYK profile cannot describe RGB output, and GIF holds no profile: those convert to sRGB.
    keepProfile: metadata.hasProfile && metadata.space !== 'cmyk' && outputFormat !== 'gif',
    load: {
      autoOrient: true,
      limitInputPixels: options.maxPixels,
      failOn: FAIL_ON,
      ...(animated ? { animated: true } : {}),
    },
  };
}

/**
 * Decodes the source once, shrunk to the smallest uniform scale from which every size can still be cut
 * without enlarging, and returns a factory of pipelines reading those pixels. Raw pixels when there is no
 * colour profile to carry; otherwise an uncompressed TIFF, which keeps the profile and the pixels untouched.
 */
async function decodeOnce(input: Buffer, plan: Plan, options: ProcessOptions, events: string[]): Promise<() => Sharp> {
  const { width, height } = plan.source;
  const scale = Math.min(1, Math.max(...options.sizes.map((size) => neededScale(size, options.fit, width, height))));
  let pipeline = reader(input, plan.load, events);
  if (scale < 1) {
    pipeline = pipeline.resize({
      width: Math.min(width, Math.ceil(width * scale - 1e-6)),
      height: Math.min(height, Math.ceil(height * scale - 1e-6)),
      fit: 'fill',
    });
  }
  const animatedInput = plan.animated ? { animated: true } : {};
  try {
    if (plan.keepProfile) {
      const tiff = await pipeline.keepIccProfile().tiff({ compression: 'none' }).toBuffer();
      return () => sharp(tiff, animatedInput);
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const raw = {
      width: info.width,
      height: info.height,
      channels: info.channels,
      premultiplied: info.premultiplied,
      ...(plan.animated && info.pageHeight !== undefined ? { pageHeight: info.pageHeight } : {}),
    };
    return () => sharp(data, { raw, ...animatedInput });
  } catch (error) {
    throw decodeFailure(plan.source, error);
  }
}

/** The size with the most pixels (the first of equals): its output is the one a single size would make. */
function largestSize(sizes: readonly SizeSpec[]): SizeSpec | undefined {
  let largest: SizeSpec | undefined;
  for (const size of sizes) if (!largest || size.width * size.height > largest.width * largest.height) largest = size;
  return largest;
}

/** The uniform scale of the source that a size needs (both axes for `fill`, which may stretch one of them). */
function neededScale(size: SizeSpec, fit: FitMode, width: number, height: number): number {
  const x = size.width / width;
  const y = size.height / height;
  return fit === 'contain' || fit === 'inside' ? Math.min(x, y) : Math.max(x, y);
}

async function render(
  pipeline: Sharp,
  size: SizeSpec,
  plan: Plan,
  options: ProcessOptions,
  pngCompression?: number,
): Promise<ProcessedOutput> {
  const opaque = plan.format === 'jpeg';
  const background = options.background ?? WHITE;
  pipeline = pipeline.resize({
    width: size.width,
    height: size.height,
    fit: options.fit,
    withoutEnlargement: !options.allowUpscale,
    // `contain` pads: the background colour where the format has no alpha, transparent elsewhere.
    background: opaque ? { ...background, alpha: 1 } : { r: 0, g: 0, b: 0, alpha: 0 },
  });
  // JPEG has no alpha: transparent pixels go on the background (white unless BACKGROUND says otherwise), not
  // the black their colour values would give.
  if (opaque) pipeline = pipeline.flatten({ background });
  if (plan.keepProfile) pipeline = pipeline.keepIccProfile();
  pipeline = encode(pipeline, plan, options.quality, pngCompression);
  let result: { data: Buffer; info: { width: number; height: number; pageHeight?: number | undefined; pages?: number | undefined } };
  try {
    result = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeFailure(plan.source, error);
  }
  const frames = plan.animated ? (result.info.pages ?? 1) : 1;
  return {
    size,
    format: plan.format,
    contentType: CONTENT_TYPES[plan.format],
    body: result.data,
    width: result.info.width,
    height: frames > 1 ? (result.info.pageHeight ?? result.info.height / frames) : result.info.height,
    bytes: result.data.length,
    frames,
  };
}

function encode(pipeline: Sharp, plan: Plan, quality: number | undefined, pngCompression: number | undefined): Sharp {
  const q = quality === undefined ? {} : { quality };
  const animation = plan.animated ? { ...(plan.delay ? { delay: plan.delay } : {}), ...(plan.loop === undefined ? {} : { loop: plan.loop }) } : {};
  switch (plan.format) {
    case 'png':
      return pipeline.png(pngCompression === undefined ? {} : { compressionLevel: pngCompression });
    case 'jpeg':
      return pipeline.jpeg(q);
    case 'webp':
      return pipeline.webp({ ...q, ...animation });
    case 'avif':
      return pipeline.avif(q);
    case 'gif':
      return pipeline.gif(animation);
    case 'tiff':
      return pipeline.tiff({ ...q, compression: 'lzw' });
  }
}

function resolveOutputFormat(requested: OutputFormat, source: ReadableFormat): WrittenFormat {
  return requested === 'original' ? source : requested;
}

/** The source's format by what its bytes say (sharp reads the signature, never the name). */
function readableFormat(metadata: Metadata): ReadableFormat {
  const detected = metadata.format as string;
  if (detected === 'heif') {
    if (metadata.compression === 'av1') return 'avif';
    throw new ImageError(
      'UNSUPPORTED_FORMAT',
      'HEIC (HEVC) images cannot be decoded here (sharp ships without an HEVC decoder); upload JPEG, PNG, WebP or AVIF.',
    );
  }
  const format = canonicalFormat(detected);
  if ((READABLE_FORMATS as readonly string[]).includes(format)) return format as ReadableFormat;
  throw new ImageError('UNSUPPORTED_FORMAT', `${format.toUpperCase()} files are not accepted; upload ${formatList()}.`);
}

function formatList(): string {
  return 'JPEG, PNG, WebP, GIF, AVIF or TIFF';
}

/**
 * Valid files of a variant libvips does not read, by the message it gives (all of them readable by other
 * decoders, so refusing them as corrupt would be wrong).
 */
const UNSUPPORTED_VARIANTS: readonly { message: RegExp; variant: string }[] = [
  { message: /tiled separate planes not supported/i, variant: 'Tiled TIFFs with separate colour planes (PlanarConfiguration 2)' },
  // libtiff names the codec it was built without: old-style JPEG, LZMA, JBIG, ...
  { message: /(\S+(?: JPEG)?) compression support is not configured/i, variant: 'TIFFs with $1 compression' },
  { message: /bad labq format/i, variant: 'CIELab TIFFs' },
  { message: /not a whole number of bytes/i, variant: 'TIFFs whose samples are not 8 or 16 bits (such as 12-bit)' },
];

/** Refuses sources whose pixels cannot be shown without a guess (see DISPLAYABLE_DEPTHS). */
function refuseUnusualSamples(metadata: Metadata, format: ReadableFormat): void {
  if (DISPLAYABLE_DEPTHS.includes(metadata.depth)) return;
  // Signed, 32-bit integer and floating-point samples have no agreed mapping to display levels: a float TIFF
  // may hold 0-1 intensities or unbounded scene-linear or elevation values, a signed one may centre on zero.
  // libvips casts them to 8 bits, clipping them to black, white or garbage, so they are refused, naming the
  // sample format, rather than rescaled by a guess that would be right for some files only.
  const names: Record<string, string> = {
    char: 'signed 8-bit integer',
    short: 'signed 16-bit integer',
    uint: 'unsigned 32-bit integer',
    int: 'signed 32-bit integer',
    float: '32-bit floating-point',
    double: '64-bit floating-point',
    complex: 'complex',
    dpcomplex: 'complex',
  };
  const samples = names[metadata.depth] ?? metadata.depth;
  throw new ImageError(
    'UNSUPPORTED_FORMAT',
    `${format.toUpperCase()} images with ${samples} samples are not accepted (their values have no standard mapping to display levels); convert to 8 or 16 bits per sample.`,
    { source: { format, width: metadata.width, height: metadata.height } },
  );
}

/**
 * Frames an APNG declares (its acTL chunk, which must come before the first IDAT), or undefined for a plain PNG.
 * A hand-written chunk walk of a few lines: no dependency reads APNG headers without decoding them.
 */
export function apngFrameCount(bytes: Buffer): number | undefined {
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT' || type === 'IEND') return undefined;
    if (type === 'acTL' && length >= 8 && offset + 16 <= bytes.length) return bytes.readUInt32BE(offset + 8);
    offset += 12 + length;
  }
  return undefined;
}

/** Why sharp could not even read the header: not an image at all, an image type we do not read, or a corrupt one. */
function unreadable(input: Buffer, error: unknown): ImageError {
  const signature = sniffSignature(input);
  const detail = inputDetail(error, signature ?? 'image');
  if (/pixel limit/i.test(detail)) return new ImageError('TOO_MANY_PIXELS', `The image is over the pixel limit (${detail}).`, { cause: error });
  const unsupported = unsupportedVariant(error, signature);
  if (unsupported) return unsupported;
  if (signature === undefined) {
    return new ImageError('UNSUPPORTED_FORMAT', `Not an image in a supported format (${formatList()}).`, { cause: error });
  }
  if ((READABLE_FORMATS as readonly string[]).includes(signature)) {
    return new ImageError('CORRUPT_IMAGE', `The ${signature.toUpperCase()} data is corrupt or truncated (${detail}).`, { cause: error });
  }
  return new ImageError('UNSUPPORTED_FORMAT', `${signature.toUpperCase()} files are not accepted; upload ${formatList()}.`, { cause: error });
}

function decodeFailure(source: OriginalImage, error: unknown): ImageError {
  const detail = inputDetail(error, source.format);
  const known = { format: source.format, width: source.width, height: source.height };
  if (/pixel limit/i.test(detail)) {
    return new ImageError('TOO_MANY_PIXELS', `The image is over the pixel limit (${detail}).`, { cause: error, source: known });
  }
  const unsupported = unsupportedVariant(error, source.format);
  if (unsupported) return new ImageError(unsupported.code, unsupported.message, { cause: error, source: known });
  return new ImageError('CORRUPT_IMAGE', `The ${source.format.toUpperCase()} data is corrupt or truncated (${detail}).`, { cause: error, source: known });
}

function unsupportedVariant(error: unknown, signature: string | undefined): ImageError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (signature === 'avif-sequence') {
    return new ImageError('UNSUPPORTED_FORMAT', `AVIF image sequences (animated AVIF) are not accepted; upload a still AVIF, an animated WebP or a GIF.`, { cause: error });
  }
  for (const { message: pattern, variant } of UNSUPPORTED_VARIANTS) {
    const match = pattern.exec(message);
    if (!match) continue;
    const named = variant.replace('$1', match[1] ?? '');
    return new ImageError('UNSUPPORTED_FORMAT', `${named} are a valid variant this function cannot decode; convert the file (for example to PNG) and upload it again.`, { cause: error });
  }
  return undefined;
}

/**
 * What sharp's error says about the input, in one line. libvips puts the decoder's warnings before its error
 * and may lead with a line that says nothing (`Input buffer has corrupt header:` with an empty detail) or that
 * blames the writer for an input that failed mid-decode (`vips2png: unable to write to target target`): the
 * detail is the decoder's last line that is neither, or failing those, a plain statement of what is wrong
 * with the input.
 */
function inputDetail(error: unknown, format: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = [...new Set(message.split('\n').map((line) => line.replace(/^Input (buffer|file) has corrupt header:\s*/i, '').trim()))];
  const informative = lines.filter((line) => line !== '' && !/unable to write to target|read gave \d+ warnings?/i.test(line));
  const errors = informative.filter((line) => !/Warning:|extraneous bytes before marker/i.test(line));
  const detail = errors.at(-1) ?? informative.at(-1);
  if (detail !== undefined) return detail;
  return /unable to write/i.test(message)
    ? `the ${format.toUpperCase()} pixel data could not be decoded`
    : `the ${format.toUpperCase()} header could not be read`;
}

/** Image file signatures, only to tell "corrupt image" from "not an image" when sharp cannot read a header. */
export function sniffSignature(bytes: Buffer): string | undefined {
  const ascii = (start: number, end: number): string => bytes.subarray(start, end).toString('latin1');
  const starts = (...values: number[]): boolean => values.every((value, i) => bytes[i] === value);
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'avis') return 'avif-sequence';
    if (brand === 'avif') return 'avif';
    if (/^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(brand)) return 'heic';
  }
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  if (ascii(0, 2) === 'BM') return 'bmp';
  if (starts(0x00, 0x00, 0x01, 0x00)) return 'ico';
  if (starts(0xff, 0x0a) || ascii(4, 8) === 'JXL ') return 'jxl';
  if (ascii(4, 8) === 'jP  ') return 'jp2';
  if (ascii(0, 4) === '8BPS') return 'psd';
  if (ascii(0, 5) === '%PDF-') return 'pdf';
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<svg[\s>]/i.test(ascii(0, 512))) return 'svg';
  return undefined;
}
