import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '../../lambda-src/core/image.js';
import { insightFromOutputs } from '../../lambda-src/core/insight.js';
import { DEFAULT_SIZE_SPEC, parseSizeSpec } from '../../lambda-src/core/sizes.js';
import { DEFAULT_DUPLICATE_DISTANCE, findDuplicates, type HashedItem } from '../../src/operations/duplicates.js';
import { corpusFiles, readCorpusFile } from '../helpers/corpus.js';

/** The hash as the function computes it: through processImage at the default size, from its output. */
async function functionHash(image: Buffer): Promise<string> {
  const processed = await processImage(image, { sizes: parseSizeSpec(DEFAULT_SIZE_SPEC), format: 'png', fit: 'cover', maxPixels: 200_000_000, allowUpscale: false });
  return (await insightFromOutputs(processed.outputs)).perceptualHash;
}

/** The three edits the issue names, and all three at once. */
async function variants(image: Buffer): Promise<Record<string, Buffer>> {
  const { width, height } = await sharp(image).metadata();
  const crop = { left: Math.round(width * 0.025), top: Math.round(height * 0.025), width: Math.round(width * 0.95), height: Math.round(height * 0.95) };
  return {
    requality: await sharp(image).jpeg({ quality: 40 }).toBuffer(),
    half: await sharp(image).resize(Math.round(width / 2)).jpeg({ quality: 90 }).toBuffer(),
    crop5: await sharp(image).extract(crop).jpeg({ quality: 90 }).toBuffer(),
    all: await sharp(image).extract(crop).resize(Math.round(width * 0.475)).jpeg({ quality: 60 }).toBuffer(),
  };
}

async function* stream(items: HashedItem[]): AsyncGenerator<HashedItem> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('near-duplicate grouping on the real photo corpus', () => {
  it(`groups each photo with its re-encoded, halved and 5%-cropped copies at the default ${DEFAULT_DUPLICATE_DISTANCE} bits, and no distinct photos`, async () => {
    const files = await corpusFiles();
    // Photographs only: Gulp.png and Silk.png are mostly transparent overlay graphics, whose 5% crop moves the
    // hash up to 20 bits (reported, not hidden: see the README). The 5640 px Elephants is the 3840 px one larger.
    const photos = files.filter((file) => file.extension !== '.png' && file.name !== 'Elephants_5640x3172.jpg');
    expect(photos.length).toBeGreaterThanOrEqual(14);
    const items: HashedItem[] = [];
    for (const file of photos) {
      const image = await readCorpusFile(file);
      items.push({ ImageID: file.name, PerceptualHash: await functionHash(image) });
      for (const [edit, copy] of Object.entries(await variants(image))) {
        items.push({ ImageID: `${file.name}#${edit}`, PerceptualHash: await functionHash(copy) });
      }
    }
    items.push({ ImageID: 'never-hashed.jpg' });
    const report = await findDuplicates(stream(items));
    expect(report).toMatchObject({ scanned: items.length, unhashed: 1, distance: DEFAULT_DUPLICATE_DISTANCE });
    const groups = report.groups.map((group) => group.members.map((member) => member.imageId).sort());
    const expected = photos.map((file) => [file.name, ...['all', 'crop5', 'half', 'requality'].map((edit) => `${file.name}#${edit}`)].sort());
    const byFirst = (a: string[], b: string[]): number => (a[0] ?? '').localeCompare(b[0] ?? '');
    expect(groups.sort(byFirst)).toEqual(expected.sort(byFirst));
  }, 300_000);

  it('the same photo at two resolutions groups (the corpus has Elephants at 3840 and 5640 px)', async () => {
    const files = await corpusFiles();
    const elephants = files.filter((file) => file.name.startsWith('Elephants_'));
    expect(elephants).toHaveLength(2);
    const items = await Promise.all(elephants.map(async (file) => ({ ImageID: file.name, PerceptualHash: await functionHash(await readCorpusFile(file)) })));
    const report = await findDuplicates(items);
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0]?.members.map((m) => m.imageId).sort()).toEqual(['Elephants_3840x2160.jpg', 'Elephants_5640x3172.jpg']);
  }, 120_000);
});

describe('findDuplicates', () => {
  const hex = (value: bigint): string => value.toString(16).padStart(16, '0');

  it('joins chains transitively, reports distances from the first member, and leaves singletons out', async () => {
    const a = 0x0123456789abcdefn;
    const b = a ^ 0b111n; // 3 bits from a
    const c = b ^ (0b111n << 20n); // 3 bits from b, 6 from a
    const far = ~a & 0xffffffffffffffffn; // 64 bits from a
    const report = await findDuplicates(
      [
        { ImageID: 'a', PerceptualHash: hex(a) },
        { ImageID: 'far', PerceptualHash: hex(far) },
        { ImageID: 'c', PerceptualHash: hex(c) },
        { ImageID: 'b', PerceptualHash: hex(b) },
      ],
      { distance: 3 },
    );
    expect(report.groups).toEqual([
      {
        members: [
          { imageId: 'a', perceptualHash: hex(a), distance: 0 },
          { imageId: 'c', perceptualHash: hex(c), distance: 6 },
          { imageId: 'b', perceptualHash: hex(b), distance: 3 },
        ],
      },
    ]);
  });

  it('finds every pair within the distance that comparing all pairs finds (BK-tree pruning loses none)', async () => {
    // A deterministic spread of hashes with clusters, checked against the brute force.
    let seed = 12345n;
    const next = (): bigint => {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      return seed;
    };
    const items: { ImageID: string; PerceptualHash: string }[] = [];
    for (let i = 0; i < 300; i += 1) {
      const base = next();
      items.push({ ImageID: `p${i}`, PerceptualHash: hex(base) });
      if (i % 3 === 0) items.push({ ImageID: `p${i}'`, PerceptualHash: hex(base ^ (next() & next() & next() & next())) });
    }
    const distance = 10;
    const report = await findDuplicates(items, { distance });
    const grouped = new Map<string, number>();
    report.groups.forEach((group, g) => {
      for (const member of group.members) grouped.set(member.imageId, g);
    });
    const pop = (x: bigint): number => x.toString(2).replace(/0/g, '').length;
    for (let i = 0; i < items.length; i += 1) {
      for (let j = i + 1; j < items.length; j += 1) {
        const [x, y] = [items[i]!, items[j]!];
        if (pop(BigInt(`0x${x.PerceptualHash}`) ^ BigInt(`0x${y.PerceptualHash}`)) <= distance) {
          expect(grouped.get(x.ImageID)).toBeDefined();
          expect(grouped.get(x.ImageID)).toBe(grouped.get(y.ImageID));
        }
      }
    }
    expect(report.groups.length).toBeGreaterThan(50);
  });

  it('refuses a distance outside 0-64 bits', async () => {
    await expect(findDuplicates([], { distance: 65 })).rejects.toThrow(RangeError);
  });
});
