import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runResize as resizeOperation, type ResizeOptions, type ResizeReport } from '../../src/operations/resize.js';
import { renderResize } from '../../src/ui/resize.js';
import { AppContext } from '../../src/context.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { Output } from '../../src/ui/output.js';

/** What the resize command does: the operation, then its rendering. */
async function runResize(context: AppContext, paths: string[], options: ResizeOptions): Promise<ResizeReport> {
  const report = await resizeOperation(context, paths, options);
  renderResize(context.output, report, context.cwd);
  return report;
}
import { photo, solid, RED } from '../helpers/images.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function contextIn(cwd: string, json = false) {
  const out = capture();
  const err = capture();
  const output = new Output({ json, debug: false, stdout: out.stream, stderr: err.stream, interactive: false });
  return { context: new AppContext({ json }, { output, cwd }), stdout: out.text, stderr: err.text };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('resize', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-resize-'));
    await mkdir(path.join(cwd, 'photos', 'trip'), { recursive: true });
    await writeFile(path.join(cwd, 'photos', 'cat.jpg'), await photo(300, 200));
    await writeFile(path.join(cwd, 'photos', 'trip', 'my beach.png'), await solid(120, 240, RED, 'png'));
    await writeFile(path.join(cwd, 'single.webp'), await photo(64, 64, 'webp'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it("uses the stack's sizes, format and fit from the settings file; flags override them", async () => {
    await writeFile(path.join(cwd, 'img-resizer.config.json'), JSON.stringify({ stackName: 'demo', sizes: 'thumb=50x50,medium=80x80', format: 'webp', fit: 'inside' }));
    const { context } = contextIn(cwd);
    const report = await runResize(context, ['photos/cat.jpg'], { out: 'out' });
    // fit inside: the width meets the box, the height follows the 3:2 photo.
    expect(report.results[0]?.outputs.map((o) => [o.size, o.format, o.width])).toEqual([
      ['thumb', 'webp', 50],
      ['medium', 'webp', 80],
    ]);
    const overridden = await runResize(context, ['photos/cat.jpg'], { out: 'out2', format: 'png', sizes: 'one=30x30' });
    expect(overridden.results[0]?.outputs.map((o) => [o.size, o.format, o.width])).toEqual([['one', 'png', 30]]);
  });

  it('writes every size of every file under --out, named as the function names them', async () => {
    const { context, stdout } = contextIn(cwd);
    const report = await runResize(context, ['photos', 'single.webp'], { out: 'out', sizes: 'thumb=100x100,tiny=20x20', format: 'jpeg', fit: 'inside' });
    expect(report.exitCode).toBe(ExitCode.Ok);
    expect(await filesUnder(path.join(cwd, 'out'))).toEqual([
      'resized/thumb/cat.jpg',
      'resized/thumb/single.jpg',
      'resized/thumb/trip/my beach.jpg',
      'resized/tiny/cat.jpg',
      'resized/tiny/single.jpg',
      'resized/tiny/trip/my beach.jpg',
    ]);
    const beach = report.results.find((r) => r.key === 'trip/my beach.png')!;
    expect(beach).toMatchObject({ status: 'SUCCEEDED', original: { format: 'png', width: 120, height: 240 } });
    expect(beach.outputs.map((o) => [o.size, o.width, o.height, o.format])).toEqual([
      ['thumb', 50, 100, 'jpeg'],
      ['tiny', 10, 20, 'jpeg'],
    ]);
    const written = await sharp(path.join(cwd, 'out', 'resized', 'thumb', 'trip', 'my beach.jpg')).metadata();
    expect([written.format, written.width, written.height]).toEqual(['jpeg', 50, 100]);
    expect(report.files).toHaveLength(6);
    expect(stdout()).toMatch(/SOURCE\s+SIZE\s+OUTPUT/);
    expect(stdout()).toContain('3 of 3 files resized');
  });

  it('uses the contract defaults: thumbnail=200x200 png cover, resized-{key}', async () => {
    const { context } = contextIn(cwd);
    const report = await runResize(context, ['photos/cat.jpg'], { out: 'out' });
    expect(await filesUnder(path.join(cwd, 'out'))).toEqual(['resized-cat.png']);
    expect(report.results[0]!.outputs[0]).toMatchObject({ width: 200, height: 200, format: 'png' });
  });

  it('reports a bad file, finishes the others and exits 1', async () => {
    await writeFile(path.join(cwd, 'photos', 'notes.txt'), 'not an image\n');
    await writeFile(path.join(cwd, 'photos', 'empty.jpg'), '');
    const { context, stderr } = contextIn(cwd);
    const report = await runResize(context, ['photos'], { out: 'out' });
    expect(report.exitCode).toBe(ExitCode.Failed);
    expect(report.results.filter((r) => r.status === 'SUCCEEDED').map((r) => r.key)).toEqual(['cat.jpg', 'trip/my beach.png']);
    expect(report.results.find((r) => r.key === 'notes.txt')?.error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(report.results.find((r) => r.key === 'empty.jpg')?.error?.code).toBe('EMPTY_OBJECT');
    expect(stderr()).toContain('photos/notes.txt: UNSUPPORTED_FORMAT');
    expect(await filesUnder(path.join(cwd, 'out'))).toEqual(['resized-cat.png', 'resized-trip/my beach.png']);
  });

  it('prints one JSON document under --json', async () => {
    const { context, stdout } = contextIn(cwd, true);
    await runResize(context, ['photos/*.jpg'], { out: 'out' });
    const document = JSON.parse(stdout()) as { succeeded: number; failed: number; results: { key: string; outputs: { key: string }[] }[] };
    expect(document).toMatchObject({ succeeded: 1, failed: 0 });
    expect(document.results.map((r) => [r.key, r.outputs.map((o) => o.key)])).toEqual([['cat.jpg', ['resized-cat.png']]]);
  });

  it('refuses two sources that would write one output', async () => {
    await writeFile(path.join(cwd, 'photos', 'cat.png'), await solid(40, 40, RED, 'png'));
    const { context } = contextIn(cwd);
    const report = await runResize(context, ['photos/cat.jpg', 'photos/cat.png'], { out: 'out', format: 'webp' });
    expect(report.exitCode).toBe(ExitCode.Failed);
    expect(report.results.map((r) => r.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
    expect(report.results.find((r) => r.status === 'FAILED')?.error?.code).toBe('OUTPUT_CONFLICT');
  });

  it('rejects an invalid size spec and a missing path as usage errors', async () => {
    const { context } = contextIn(cwd);
    await expect(runResize(context, ['photos'], { out: 'out', sizes: 'big=0x10' })).rejects.toBeInstanceOf(UsageError);
    await expect(runResize(context, ['nowhere.jpg'], { out: 'out' })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('resize at the edge', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-resize-edge-'));
    await mkdir(path.join(cwd, 'photos'), { recursive: true });
    await writeFile(path.join(cwd, 'photos', 'cat.jpg'), await photo(300, 200));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('judges a single file with the core, as in a batch: SVG, PPM and damaged PNG get its code and message', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    await writeFile(path.join(cwd, 'logo.svg'), svg);
    // A binary PPM (P6): a real image format, but not one the function accepts.
    await writeFile(path.join(cwd, 'scan.ppm'), Buffer.concat([Buffer.from('P6\n4 4\n255\n'), Buffer.alloc(48, 200)]));
    await copyFile(path.resolve('test/fixtures/suites/pngsuite/xd0n2c08.png'), path.join(cwd, 'damaged.png'));
    const expected = [
      ['logo.svg', 'UNSUPPORTED_FORMAT', 'SVG files are not accepted; upload JPEG, PNG, WebP, GIF, AVIF or TIFF.'],
      ['scan.ppm', 'UNSUPPORTED_FORMAT', 'Not an image in a supported format (JPEG, PNG, WebP, GIF, AVIF or TIFF).'],
      ['damaged.png', 'CORRUPT_IMAGE', 'The PNG data is corrupt or truncated (the PNG header could not be read).'],
    ] as const;
    for (const [file, code, message] of expected) {
      const alone = contextIn(cwd);
      const single = await runResize(alone.context, [file], { out: 'out' });
      expect(single.exitCode).toBe(ExitCode.Failed);
      expect(single.results).toEqual([expect.objectContaining({ key: file, status: 'FAILED', error: { code, message } })]);
      expect(alone.stderr()).toContain(`${file}: ${code}`);
      // The same file beside a good image: the same verdict.
      const batch = await runResize(contextIn(cwd).context, [file, 'photos/cat.jpg'], { out: 'out' });
      expect(batch.results.find((r) => r.key === file)?.error).toEqual({ code, message });
    }
  });

  it('refuses arguments that hold no files at all as a usage error, writing nothing', async () => {
    await mkdir(path.join(cwd, 'empty'));
    await writeFile(path.join(cwd, 'empty', '.hidden'), 'x');
    const { context } = contextIn(cwd);
    const attempt = runResize(context, ['empty'], { out: 'out' });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(readdir(path.join(cwd, 'out'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an --out that is a file once, before resizing anything', async () => {
    await writeFile(path.join(cwd, 'taken'), 'a file\n');
    const { context, stderr } = contextIn(cwd);
    const attempt = runResize(context, ['photos'], { out: 'taken' });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow('--out taken is a file, not a directory.');
    expect(stderr()).toBe('');
  });

  it('does not take earlier outputs under --out for inputs', async () => {
    const first = contextIn(cwd);
    await runResize(first.context, ['.'], { out: 'thumbs' });
    const second = contextIn(cwd);
    const report = await runResize(second.context, ['.'], { out: 'thumbs' });
    expect(report.results.map((r) => r.key)).toEqual(['photos/cat.jpg']);
    expect(await filesUnder(path.join(cwd, 'thumbs'))).toEqual(['resized-photos/cat.png']);
  });
});
