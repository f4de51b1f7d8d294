import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/commands/demo.js';
import { ExitCode } from '../../src/errors.js';
import { choosePhotos, demoPhotos } from '../../src/operations/demo-photos.js';
import { localTestContext } from '../helpers/context.js';

describe('demo photographs', () => {
  it('takes real photographs from the corpus script, preferring the small ones', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'demo-corpus-'));
    const fixtures = path.join(dir, 'fixtures');
    await mkdir(fixtures);
    for (const [name, width] of [['Big.jpg', 900], ['FreshFlower.jpg', 120], ['Other.png', 100]] as const) {
      await sharp({ create: { width, height: 80, channels: 3, background: '#456' } }).toFormat(name.endsWith('.png') ? 'png' : 'jpeg').toFile(path.join(fixtures, name));
    }
    // Stands in for ../shared/corpus/fetch-photos.sh: same interface, copies instead of downloading.
    const script = path.join(dir, 'fetch.sh');
    await writeFile(script, `#!/usr/bin/env bash\nset -e\nmkdir -p "$1"\ncp "${fixtures}"/* "$1"/\n`);
    await chmod(script, 0o755);
    const photos = await demoPhotos({ corpusDir: path.join(dir, 'corpus'), corpusScript: script, stagingDir: path.join(dir, 'staging'), count: 2 });
    expect(photos.source).toBe('corpus');
    expect(photos.files.map((f) => path.basename(f))).toEqual(['FreshFlower.jpg', 'Other.png']);
    expect(photos.files.every((f) => f.startsWith(path.join(dir, 'staging')))).toBe(true);
    expect(choosePhotos([{ file: '/a/x.jpg', bytes: 5 }, { file: '/a/LadyBird.jpg', bytes: 50 }], 1)).toEqual(['/a/LadyBird.jpg']);
  });

  it('draws images when the corpus script fails or is missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'demo-corpus-'));
    const script = path.join(dir, 'fail.sh');
    await writeFile(script, '#!/usr/bin/env bash\necho "no network" >&2\nexit 1\n');
    const failed = await demoPhotos({ corpusDir: path.join(dir, 'corpus'), corpusScript: script, stagingDir: path.join(dir, 'a'), count: 2 });
    expect(failed).toMatchObject({ source: 'generated', fallbackReason: expect.stringContaining('the corpus script failed') as string });
    expect(failed.files).toHaveLength(2);
    const missing = await demoPhotos({ corpusDir: path.join(dir, 'corpus'), corpusScript: path.join(dir, 'nope.sh'), stagingDir: path.join(dir, 'b'), count: 1 });
    expect(missing).toMatchObject({ source: 'generated', fallbackReason: 'no corpus script in this checkout' });
    const meta = await sharp(missing.files[0]).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBeGreaterThanOrEqual(1000);
  });
});

describe('demo on the local stack', () => {
  it('stands up the stack, uploads, waits, resizes locally, prints the metadata and where to look', async () => {
    const { context, cwd, stdout } = await localTestContext();
    const outcome = await runDemo(context, { photos: 2, generatedImages: true });
    if (outcome.cancelled) throw new Error('The demo on the local stack asks nothing and cannot be cancelled.');
    const { exitCode, report } = outcome;

    expect(exitCode).toBe(ExitCode.Ok);
    expect(report.photos).toBe('generated');
    expect(report.uploaded).toHaveLength(2);
    expect(report.uploaded.every((u) => u.status === 'SUCCEEDED' && u.outputs.length === 1 && u.key.startsWith('demo/'))).toBe(true);
    expect(existsSync(path.join(cwd, 'img-resizer.config.json'))).toBe(true);
    expect(report.downloaded).toHaveLength(2);
    for (const file of [...report.downloaded, ...report.resizedLocally]) {
      const meta = await sharp(file).metadata();
      expect({ width: meta.width, height: meta.height, format: meta.format }).toEqual({ width: 200, height: 200, format: 'png' });
    }
    expect(await readdir(path.join(cwd, 'img-resizer-demo', 'local'))).toHaveLength(1);

    const text = stdout();
    expect(text).toMatch(/File\s+Status\s+Original\s+Outputs/);
    expect(text).toContain('demo/sunset over hills.jpg');
    expect(text).toContain('Where to look');
    expect(text).toContain(`s3://${report.destBucket}/`);
    expect(text).toContain('s3 cp');
    context.close();
  });
});
