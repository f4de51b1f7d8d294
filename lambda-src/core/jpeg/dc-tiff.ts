import type { DcImage } from './dc-decode.js';

/**
 * The 1/8-scale pixels as an uncompressed TIFF that also carries the source's ICC profile and EXIF orientation.
 *
 * Hand-written because sharp's raw input holds neither a colour profile (withIccProfile takes a file path, not
 * bytes) nor CMYK samples, and both must reach sharp exactly as today's path gives them: the profile kept or
 * converted from, CMYK converted with the source's profile, the orientation applied. A baseline TIFF with a
 * dozen tags is all libvips needs for that, and it loads without decoding anything.
 */
export function dcImageTiff(image: DcImage, extras: { icc?: Buffer | undefined; orientation?: number | undefined }): Buffer {
  const photometric = image.colour === 'b-w' ? 1 : image.colour === 'cmyk' ? 5 : 2;
  const pixelBytes = image.width * image.height * image.channels;
  const entries: { tag: number; type: 3 | 4 | 7; count: number; value: number | Buffer }[] = [];
  const bitsPerSample = Buffer.alloc(image.channels * 2);
  for (let i = 0; i < image.channels; i++) bitsPerSample.writeUInt16LE(8, i * 2);
  entries.push({ tag: 256, type: 4, count: 1, value: image.width });
  entries.push({ tag: 257, type: 4, count: 1, value: image.height });
  entries.push(image.channels <= 2 ? { tag: 258, type: 3, count: image.channels, value: 8 } : { tag: 258, type: 3, count: image.channels, value: bitsPerSample });
  entries.push({ tag: 259, type: 3, count: 1, value: 1 });
  entries.push({ tag: 262, type: 3, count: 1, value: photometric });
  entries.push({ tag: 273, type: 4, count: 1, value: 0 }); // StripOffsets: patched below
  if (extras.orientation !== undefined && extras.orientation >= 1 && extras.orientation <= 8) {
    entries.push({ tag: 274, type: 3, count: 1, value: extras.orientation });
  }
  entries.push({ tag: 277, type: 3, count: 1, value: image.channels });
  entries.push({ tag: 278, type: 4, count: 1, value: image.height });
  entries.push({ tag: 279, type: 4, count: 1, value: pixelBytes });
  entries.push({ tag: 284, type: 3, count: 1, value: 1 });
  if (photometric === 5) entries.push({ tag: 332, type: 3, count: 1, value: 1 }); // InkSet: CMYK
  if (extras.icc !== undefined && extras.icc.length > 0) entries.push({ tag: 34675, type: 7, count: extras.icc.length, value: extras.icc });

  const ifdSize = 2 + entries.length * 12 + 4;
  const even = (n: number): number => n + (n & 1);
  let dataAt = even(8 + ifdSize);
  const blobs: { at: number; bytes: Buffer }[] = [];
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(entries.length, 0);
  entries.forEach((entry, i) => {
    const at = 2 + i * 12;
    ifd.writeUInt16LE(entry.tag, at);
    ifd.writeUInt16LE(entry.type, at + 2);
    ifd.writeUInt32LE(entry.count, at + 4);
    if (Buffer.isBuffer(entry.value)) {
      if (entry.value.length <= 4) entry.value.copy(ifd, at + 8);
      else {
        ifd.writeUInt32LE(dataAt, at + 8);
        blobs.push({ at: dataAt, bytes: entry.value });
        dataAt = even(dataAt + entry.value.length);
      }
    } else if (entry.type === 3) ifd.writeUInt16LE(entry.value, at + 8);
    else ifd.writeUInt32LE(entry.value, at + 8);
  });
  const stripAt = dataAt;
  const stripEntry = entries.findIndex((e) => e.tag === 273);
  ifd.writeUInt32LE(stripAt, 2 + stripEntry * 12 + 8);
  const out = Buffer.alloc(stripAt + pixelBytes);
  header.copy(out, 0);
  ifd.copy(out, 8);
  for (const blob of blobs) blob.bytes.copy(out, blob.at);
  image.pixels.copy(out, stripAt, 0, pixelBytes);
  return out;
}
