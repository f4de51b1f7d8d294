import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePhotos } from '../../src/operations/demo-photos.js';

const dirs: string[] = [];
afterAll(async () => { await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))); });

describe('the demo\'s generated images', () => {
  it('makes as many images as --photos asks, past the four scenes too', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-photos-'));
    dirs.push(dir);
    const files = await generatePhotos(dir, 6);
    expect(files).toHaveLength(6);
    expect(new Set(files).size).toBe(6);
    expect(path.basename(files[4] ?? '')).toBe('sunset over hills 2.jpg');
    for (const file of files) expect((await stat(file)).size).toBeGreaterThan(10_000);
  });
});
