import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { errorMessage } from '../errors.js';

const run = promisify(execFile);

/** Smallish real photographs of the corpus (80-350 kB, 1280-2560 px wide): a fast demo that still shows real work. */
export const PREFERRED_CORPUS_PHOTOS = ['FreshFlower.jpg', 'GreenMeadow.jpg', 'LadyBird.jpg', 'Silk.png'];

const IMAGE_NAME = /\.(jpe?g|png|webp)$/i;

export interface DemoPhotos {
  files: string[];
  source: 'corpus' | 'generated';
  /** Why the corpus was not used, when it was not. */
  fallbackReason?: string;
}

export interface DemoPhotoOptions {
  /** Where the corpus script puts the photographs (kept between runs). */
  corpusDir: string;
  /** The corpus script (../shared/corpus/fetch-photos.sh in a checkout), if there is one. */
  corpusScript: string | undefined;
  /** Where the photos to upload are copied or generated. */
  stagingDir: string;
  count: number;
  /** Progress text. */
  onStatus?: (text: string) => void;
}

/**
 * A few photographs for the demo: real ones from the corpus script when this checkout has it (fetched once into
 * the cache), otherwise generated with sharp, so the Quick start works on a fresh machine without the network.
 */
export async function demoPhotos(options: DemoPhotoOptions): Promise<DemoPhotos> {
  await mkdir(options.stagingDir, { recursive: true });
  let reason: string;
  if (options.corpusScript && existsSync(options.corpusScript)) {
    try {
      const available = await corpusImages(options.corpusDir);
      if (available.length < options.count) {
        options.onStatus?.('Fetching sample photographs (once; kept in the cache)');
        await run('bash', [options.corpusScript, options.corpusDir], { timeout: 180_000 });
      }
      const chosen = choosePhotos(await corpusImages(options.corpusDir), options.count);
      if (chosen.length > 0) {
        const files: string[] = [];
        for (const file of chosen) {
          const target = path.join(options.stagingDir, path.basename(file));
          await copyFile(file, target);
          files.push(target);
        }
        return { files, source: 'corpus' };
      }
      reason = 'the corpus script produced no images';
    } catch (error) {
      reason = `the corpus script failed: ${errorMessage(error).split('\n')[0] ?? ''}`;
    }
  } else {
    reason = options.corpusScript ? 'no corpus script in this checkout' : 'no corpus script given';
  }
  return { files: await generatePhotos(options.stagingDir, options.count), source: 'generated', fallbackReason: reason };
}

async function corpusImages(dir: string): Promise<{ file: string; bytes: number }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const images: { file: string; bytes: number }[] = [];
  for (const name of names.filter((n) => IMAGE_NAME.test(n))) {
    const file = path.join(dir, name);
    images.push({ file, bytes: (await stat(file)).size });
  }
  return images;
}

/** The preferred photographs when present, topped up with the smallest others. */
export function choosePhotos(images: readonly { file: string; bytes: number }[], count: number): string[] {
  const byName = new Map(images.map((i) => [path.basename(i.file), i]));
  const chosen = PREFERRED_CORPUS_PHOTOS.map((name) => byName.get(name)).filter((i) => i !== undefined);
  const rest = images.filter((i) => !chosen.includes(i)).sort((a, b) => a.bytes - b.bytes);
  return [...chosen, ...rest].slice(0, count).map((i) => i.file);
}

/** Landscapes drawn as SVG and rendered by sharp: real JPEG/PNG files of photo-like sizes. Names show off spaces and Unicode. */
export async function generatePhotos(dir: string, count: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const scenes = [
    { name: 'sunset over hills.jpg', width: 1600, height: 1067, sky: ['#1d2b64', '#f8a170'], sun: '#ffd56b', hills: '#2d4739' },
    { name: 'blue hour.jpg', width: 1200, height: 1600, sky: ['#0f2027', '#6fa3c4'], sun: '#fff4d6', hills: '#1b2a34' },
    { name: 'été à la plage.png', width: 960, height: 720, sky: ['#4facfe', '#e0f7ff'], sun: '#fff07a', hills: '#e8c98e' },
    { name: 'aurora.jpg', width: 1920, height: 1080, sky: ['#020024', '#00d4a0'], sun: '#d8fff4', hills: '#0b1d26' },
  ];
  const files: string[] = [];
  for (let index = 0; index < Math.max(1, count); index += 1) {
    // Past the four scenes, the same scenes again under numbered names: --photos 10 uploads 10 images.
    const base = scenes[index % scenes.length] ?? scenes[0];
    if (base === undefined) break;
    const round = Math.floor(index / scenes.length);
    const scene = round === 0 ? base : { ...base, name: base.name.replace(/(\.\w+)$/, ` ${round + 1}$1`) };
    const { width: w, height: h } = scene;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="${scene.sky[0] ?? '#000'}"/><stop offset="1" stop-color="${scene.sky[1] ?? '#fff'}"/>
  </linearGradient></defs>
  <rect width="${w}" height="${h}" fill="url(#sky)"/>
  <circle cx="${w * 0.7}" cy="${h * 0.45}" r="${Math.min(w, h) * 0.12}" fill="${scene.sun}" opacity="0.9"/>
  <path d="M0 ${h * 0.7} Q ${w * 0.25} ${h * 0.5} ${w * 0.5} ${h * 0.68} T ${w} ${h * 0.62} V ${h} H 0 Z" fill="${scene.hills}"/>
  <path d="M0 ${h * 0.85} Q ${w * 0.4} ${h * 0.72} ${w} ${h * 0.88} V ${h} H 0 Z" fill="${scene.hills}" opacity="0.7"/>
</svg>`;
    const file = path.join(dir, scene.name);
    // A little noise gives the encoder photo-like work instead of flat colour.
    const noise = await sharp({ create: { width: w, height: h, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 18 } } })
      .png()
      .toBuffer();
    const image = sharp(Buffer.from(svg)).composite([{ input: noise, blend: 'soft-light' }]);
    await (scene.name.endsWith('.png') ? image.png() : image.jpeg({ quality: 85 })).toFile(file);
    files.push(file);
  }
  return files;
}
