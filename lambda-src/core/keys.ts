import type { SizeSpec } from './sizes.js';

/**
 * Keys in S3 event records are form-encoded: `+` is a space, `%2B` a plus, `%XX` UTF-8 bytes.
 * Decodes one. A key that cannot have come from S3's encoder (a bare space, a non-ASCII character) is taken as
 * already decoded, as some emulators send it; malformed `%` sequences keep their text and the well-formed ones
 * around them are still decoded, so the function looks for the most plausible object instead of crashing.
 */
export function decodeS3EventKey(raw: string): string {
  // Anything but printable ASCII (a space, a control or non-ASCII character): S3's encoder never leaves it bare.
  if (/[^!-~]/u.test(raw)) return raw;
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * The inverse: encodes a key as S3 does in event records (UTF-8 percent-encoding of everything but letters,
 * digits, `-_.~` and `/`, with spaces as `+`). Used to synthesize events for objects that already exist.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

/** One size writes `resized-{key}`; several write `resized/{size}/{key}` (the contract's names). */
export const SINGLE_SIZE_PREFIX = 'resized-';
export const MULTI_SIZE_PREFIX = 'resized/';

/** Extension of the files of each format the function writes; JPEG as `.jpg`, the most common spelling. */
const EXTENSIONS: Record<string, string> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
  gif: 'gif',
  tiff: 'tif',
};

/** Canonical format name: `jpg` is `jpeg`, `tif` is `tiff`. */
export function canonicalFormat(format: string): string {
  const lower = format.toLowerCase();
  if (lower === 'jpg') return 'jpeg';
  if (lower === 'tif') return 'tiff';
  return lower;
}

/**
 * The key of one output of a source object. When the output format differs from the source's (as detected from
 * its bytes), the key's extension becomes the output format's (`photos/cat.jpg` as png gives
 * `resized-photos/cat.png`; a key without an extension gains one); otherwise the key is kept as it is, so
 * `IMG_1.JPEG` as jpeg stays `IMG_1.JPEG`. JPEG outputs of non-JPEG sources end in `.jpg`.
 */
export function outputKeyFor(sourceKey: string, size: SizeSpec, sizeCount: number, outputFormat: string, sourceFormat: string): string {
  const output = canonicalFormat(outputFormat);
  const key = output === canonicalFormat(sourceFormat) ? sourceKey : withExtension(sourceKey, EXTENSIONS[output] ?? output);
  return sizeCount === 1 ? `${SINGLE_SIZE_PREFIX}${key}` : `${MULTI_SIZE_PREFIX}${size.name}/${key}`;
}

/** Whether a key is one the function writes (loop guard, backfill skipping). */
export function isOutputKey(key: string): boolean {
  return key.startsWith(SINGLE_SIZE_PREFIX) || key.startsWith(MULTI_SIZE_PREFIX);
}

function withExtension(key: string, extension: string): string {
  const slash = key.lastIndexOf('/');
  const dot = key.lastIndexOf('.');
  // A dot that starts the file name (".hidden") is not an extension.
  const stem = dot > slash + 1 ? key.slice(0, dot) : key;
  return `${stem}.${extension}`;
}
