import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { triggerFires } from '../../src/operations/trigger-filter.js';
import { expandUploadPaths, globBase, keyFor, normalizePrefix, sniffEntries } from '../../src/operations/upload-plan.js';

describe('key naming', () => {
  it('treats the prefix as a folder', () => {
    expect(normalizePrefix(undefined)).toBe('');
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('photos')).toBe('photos/');
    expect(normalizePrefix('/photos/')).toBe('photos/');
    expect(normalizePrefix('a/b')).toBe('a/b/');
  });

  it('keeps names, spaces and unicode, with forward slashes and NFC', () => {
    expect(keyFor('', 'my cat.jpg')).toBe('my cat.jpg');
    expect(keyFor('up/', path.join('2024', 'été à Paris.jpg'))).toBe('up/2024/été à Paris.jpg');
    // A decomposed é (as macOS file systems store it) becomes the composed one people type.
    expect(keyFor('', 'e\u0301te\u0301.jpg')).toBe('\u00e9t\u00e9.jpg');
  });

  it('finds the fixed part of a glob', () => {
    expect(globBase('*.jpg')).toBe('.');
    expect(globBase('shots/*.jpg')).toBe('shots');
    expect(globBase('shots/**/*.jpg')).toBe('shots');
    expect(globBase('a/b/{x,y}/*.png')).toBe('a/b');
    expect(globBase('/abs/dir/*.jpg')).toBe('/abs/dir');
  });
});

describe('expandUploadPaths', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'upload-plan-'));
    await mkdir(path.join(cwd, 'shots', 'day 2'), { recursive: true });
    await mkdir(path.join(cwd, 'other'), { recursive: true });
    await mkdir(path.join(cwd, 'empty'), { recursive: true });
    for (const file of ['shots/a.jpg', 'shots/b.png', 'shots/day 2/c d.jpg', 'shots/.DS_Store', 'other/a.jpg', 'été.jpg']) {
      await writeFile(path.join(cwd, file), `bytes of ${file}`);
    }
  });

  it('names a file by its base name under the prefix', async () => {
    const entries = await expandUploadPaths(['shots/day 2/c d.jpg', 'été.jpg'], { cwd, prefix: 'in/' });
    expect(entries.map((e) => e.key)).toEqual(['in/c d.jpg', 'in/été.jpg']);
    expect(entries[0]).toMatchObject({ file: path.join(cwd, 'shots/day 2/c d.jpg'), display: path.join('shots', 'day 2', 'c d.jpg'), bytes: 'bytes of shots/day 2/c d.jpg'.length });
  });

  it('expands a directory recursively, relative to it, without hidden files', async () => {
    const entries = await expandUploadPaths(['shots'], { cwd, prefix: '' });
    expect(entries.map((e) => e.key)).toEqual(['a.jpg', 'b.png', 'day 2/c d.jpg']);
  });

  it('expands globs relative to their fixed part', async () => {
    expect((await expandUploadPaths(['shots/*.jpg'], { cwd, prefix: 'p/' })).map((e) => e.key)).toEqual(['p/a.jpg']);
    expect((await expandUploadPaths(['shots/**/*.jpg'], { cwd, prefix: '' })).map((e) => e.key)).toEqual(['a.jpg', 'day 2/c d.jpg']);
    expect((await expandUploadPaths([`${cwd}/shots/*.png`], { cwd: os.tmpdir(), prefix: '' })).map((e) => e.key)).toEqual(['b.png']);
  });

  it('uploads a file named twice once', async () => {
    const entries = await expandUploadPaths(['shots/a.jpg', './shots/a.jpg', 'shots/*.jpg'], { cwd, prefix: '' });
    expect(entries).toHaveLength(1);
  });

  it('refuses two files aimed at one key, missing paths, empty matches and empty directories', async () => {
    await expect(expandUploadPaths(['shots/a.jpg', 'other/a.jpg'], { cwd, prefix: '' })).rejects.toThrow(/would both be uploaded as "a.jpg"/);
    await expect(expandUploadPaths(['nope.jpg'], { cwd, prefix: '' })).rejects.toThrow(/nope.jpg: no such file/);
    await expect(expandUploadPaths(['shots/*.gif'], { cwd, prefix: '' })).rejects.toThrow(/matches no files/);
    await expect(expandUploadPaths(['empty'], { cwd, prefix: '' })).rejects.toThrow(/contains no files/);
    await expect(expandUploadPaths([], { cwd, prefix: '' })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('sniffEntries', () => {
  it('judges by the bytes, not the name', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'upload-sniff-'));
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#c33' } }).jpeg().toBuffer();
    const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3c3' } }).webp().toBuffer();
    await writeFile(path.join(dir, 'photo.jpg'), jpeg);
    await writeFile(path.join(dir, 'named-png.png'), webp);
    await writeFile(path.join(dir, 'notes.jpg'), 'not an image at all, only text');
    await writeFile(path.join(dir, 'empty.png'), '');
    const entries = await sniffEntries(await expandUploadPaths([dir], { cwd: dir, prefix: '' }));
    const byKey = Object.fromEntries(entries.map((e) => [e.key, { isImage: e.isImage, contentType: e.contentType }]));
    expect(byKey).toEqual({
      'empty.png': { isImage: false, contentType: 'application/octet-stream' },
      'named-png.png': { isImage: true, contentType: 'image/webp' },
      'notes.jpg': { isImage: false, contentType: 'application/octet-stream' },
      'photo.jpg': { isImage: true, contentType: 'image/jpeg' },
    });
  });
});

describe('triggerFires', () => {
  const separate = { sourceBucket: 'src', destBucket: 'dst', prefix: undefined, suffix: undefined };
  it('follows the trigger filters and never fires for folder markers', () => {
    expect(triggerFires('a.jpg', separate)).toBe(true);
    expect(triggerFires('photos/', separate)).toBe(false);
    expect(triggerFires('uploads/a.jpg', { ...separate, prefix: 'uploads/' })).toBe(true);
    expect(triggerFires('other/a.jpg', { ...separate, prefix: 'uploads/' })).toBe(false);
    expect(triggerFires('a.png', { ...separate, suffix: '.jpg' })).toBe(false);
  });
  it('skips the function\'s own outputs only when it writes into the bucket it reads', () => {
    expect(triggerFires('resized-a.png', separate)).toBe(true);
    const same = { sourceBucket: 'b', destBucket: 'b', prefix: undefined, suffix: undefined };
    expect(triggerFires('resized-a.png', same)).toBe(false);
    expect(triggerFires('resized/thumb/a.png', same)).toBe(false);
    expect(triggerFires('uploads/a.png', same)).toBe(true);
  });
});
