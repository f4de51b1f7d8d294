/**
 * What sharp's decoders say about a source they could still decode, and which of it means the pixels are
 * damaged.
 *
 * Header read and decode both run at sharp's `failOn: 'error'`: errors and truncation abort, warnings do not.
 * A warning then either describes the file's bookkeeping (a metadata chunk or tag that is malformed, duplicated
 * or out of place, an unknown JFIF revision, stray bytes between two header segments): the decoder ignores the
 * bad part and every pixel comes out as the encoder wrote it, so the image is accepted and the warning is
 * recorded on its item. Or it describes the compressed pixel data itself, and then the decoder has filled in
 * what it could not read (grey blocks, smeared stripes, a shifted remainder): that is visible damage and the
 * image is refused as CORRUPT_IMAGE. The line is drawn on that question alone (can the pixels differ from what
 * was encoded?) so that the same warning gets the same outcome in every format and on every path.
 */

/** How a source's pixels came out of the decoder. */
export type DecodeVerdict = { damaged: false; warnings: string[] } | { damaged: true; warnings: string[]; damage: string };

/**
 * Warnings about the compressed pixel data. For JPEG, libjpeg's: corrupt entropy-coded data (`bad Huffman
 * code`), a scan that ends early (`premature end of data segment`, `premature end of JPEG`), a lost restart
 * interval (`found marker ... instead of RST`, or extraneous bytes before a restart marker 0xD0-0xD7, which
 * sit inside a scan, so the bytes skipped were MCUs), and scans that do not add up (`Inconsistent progression`,
 * `Invalid SOS parameters`). Extraneous bytes before any other marker lie between segments and change no
 * pixel. For GIF, a frame whose LZW data ends early (`Unexpected end of GIF source data`). For PNG and TIFF,
 * libpng and libtiff report damaged pixel data as errors, which abort already; their warnings are about
 * ancillary chunks and tags.
 */
const DAMAGE: readonly RegExp[] = [
  /Corrupt JPEG data: bad Huffman code/i,
  /premature end of data segment/i,
  /premature end of JPEG/i,
  /extraneous bytes before marker 0xd[0-7]\b/i,
  /found marker 0x[0-9a-f]+ instead of RST/i,
  /Inconsistent progression sequence/i,
  /Invalid SOS parameters/i,
  /Unexpected end of GIF source data/i,
];

/** Whether a decoder's line (a warning, or the error that aborted a decode) describes damaged pixel data. */
export function describesDamage(line: string): boolean {
  return DAMAGE.some((pattern) => pattern.test(line)) || DAMAGE_ERRORS.some((pattern) => pattern.test(line));
}

/** Errors (they abort the decode already) that name damage to the pixel data rather than to the structure. */
const DAMAGE_ERRORS: readonly RegExp[] = [/Bad code word at line/i, /Decoding error at scanline/i, /Read error at scanline/i, /bad Huffman code/i];

/** libvips' own count of the lines above it, which says nothing more. */
const NOISE = /^(\w+: )?read gave \d+ warnings?$/i;

/**
 * Splits sharp's warning events into distinct lines without the decoder prefix noise, and says whether any of
 * them means visible damage.
 */
export function judgeWarnings(events: readonly string[]): DecodeVerdict {
  const lines: string[] = [];
  for (const event of events) {
    for (const raw of event.split('\n')) {
      const line = raw.trim();
      if (line === '' || NOISE.test(line) || lines.includes(line)) continue;
      lines.push(line);
    }
  }
  const damage = lines.find((line) => DAMAGE.some((pattern) => pattern.test(line)));
  return damage === undefined ? { damaged: false, warnings: lines } : { damaged: true, warnings: lines, damage };
}
