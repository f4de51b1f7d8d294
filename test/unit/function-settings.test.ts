import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processImage } from '../../lambda-src/core/image.js';
import { FUNCTION_ENV, functionEnvironment, loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { initCommand, initOptionsFrom } from '../../src/commands/init.js';
import { parseSetting, readSettingsFile, resolveInitSettings, type StackSettings } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';
import { stackModel } from '../../src/provision/stack.js';
import { runCli } from '../helpers/cli.js';
import { near, pixelAt } from '../helpers/images.js';

/** Issue 11 items 7, 9 and 10: the function's output settings, and the settings file checked like the flags. */

const located = () => Promise.resolve({ account: '123456789012', region: 'eu-west-1' });
const identity = { account: '123456789012', partition: 'aws' };

async function resolve(flags: Parameters<typeof resolveInitSettings>[0]['flags'], env: NodeJS.ProcessEnv = {}, file?: Partial<StackSettings>) {
  return resolveInitSettings({ flags, env, file, locate: located });
}

/** commander's values for an init command line (the parsers run, no action). */
function initFlags(argv: string[]): ReturnType<typeof initOptionsFrom> {
  const command = initCommand().exitOverride();
  command.parseOptions(argv);
  return initOptionsFrom(command.opts());
}

/** White artwork (a square) on a fully transparent ground: the case of issue 11, where JPEG made it a blank white image. */
async function whiteArtworkPng(): Promise<Buffer> {
  const square = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } } }).png().toBuffer();
  return sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: square, left: 30, top: 30 }])
    .png()
    .toBuffer();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-function-settings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('function output settings as init settings', () => {
  it('read --quality, --allow-upscale, --max-pixels, --max-bytes (with a unit), --background and --cache-control', () => {
    expect(
      initFlags(['--quality', '70', '--allow-upscale', '--max-pixels', '50000000', '--max-bytes', '20MB', '--background', '#102030', '--cache-control', 'public, max-age=600']),
    ).toMatchObject({ quality: 70, allowUpscale: true, maxPixels: 50_000_000, maxBytes: 20 * 1024 * 1024, background: '#102030', cacheControl: 'public, max-age=600' });
    expect(initFlags(['--no-allow-upscale'])).toMatchObject({ allowUpscale: false });
    // Neither given: unset, so the environment or the settings file decides.
    expect(initFlags([]).allowUpscale).toBeUndefined();
  });

  it('take the same values from IMG_RESIZER_* and from the settings file, and put them in the function environment', async () => {
    const fromEnv = await resolve(
      {},
      { IMG_RESIZER_QUALITY: '70', IMG_RESIZER_ALLOW_UPSCALE: 'yes', IMG_RESIZER_MAX_PIXELS: '50000000', IMG_RESIZER_MAX_BYTES: '20 MB', IMG_RESIZER_BACKGROUND: 'navy' },
    );
    expect(fromEnv.settings).toMatchObject({ quality: 70, allowUpscale: true, maxPixels: 50_000_000, maxBytes: 20_971_520, background: 'navy' });
    expect(fromEnv.sources).toMatchObject({ quality: 'env', maxBytes: 'env', background: 'env' });
    const fromFile = await resolve({}, {}, { quality: 70, allowUpscale: true, maxPixels: 50_000_000, maxBytes: 20_971_520, background: 'navy' });
    expect(fromFile.settings).toMatchObject(fromEnv.settings);

    const environment = stackModel(fromEnv.settings, identity, 'eu-west-1').environment;
    expect(environment).toMatchObject({ OUTPUT_QUALITY: '70', ALLOW_UPSCALE: 'true', MAX_PIXELS: '50000000', MAX_BYTES: '20971520', BACKGROUND: 'navy' });
    expect(loadFunctionSettings(environment)).toMatchObject({ quality: 70, allowUpscale: true, maxPixels: 50_000_000, maxBytes: 20_971_520, background: { r: 0, g: 0, b: 128 } });
  });

  it('leave a stack that sets none of them as it was: no new variables, no new settings-file keys', async () => {
    const { settings } = await resolve({}, {}, undefined);
    for (const key of ['quality', 'allowUpscale', 'maxPixels', 'maxBytes', 'background'] as const) expect(settings).not.toHaveProperty(key);
    const environment = stackModel(settings, identity, 'eu-west-1').environment;
    for (const name of ['OUTPUT_QUALITY', 'ALLOW_UPSCALE', 'MAX_PIXELS', 'MAX_BYTES', 'BACKGROUND', 'CACHE_CONTROL']) expect(environment).not.toHaveProperty(name);
    // --no-allow-upscale is the function's default: recorded, but no variable.
    const off = await resolve({ allowUpscale: false });
    expect(off.settings.allowUpscale).toBe(false);
    expect(stackModel(off.settings, identity, 'eu-west-1').environment).not.toHaveProperty('ALLOW_UPSCALE');
  });

  it('refuse what the function would refuse, by the function\'s own rule, naming the variable', async () => {
    await expect(resolve({}, { IMG_RESIZER_QUALITY: '0' })).rejects.toThrow('IMG_RESIZER_QUALITY: "0" is not a whole number from 1 to 100.');
    await expect(resolve({}, { IMG_RESIZER_BACKGROUND: 'see-through' })).rejects.toThrow(/IMG_RESIZER_BACKGROUND: "see-through" is not a colour/);
    await expect(resolve({}, { IMG_RESIZER_MAX_BYTES: 'lots' })).rejects.toThrow(/IMG_RESIZER_MAX_BYTES: "lots" is not a whole number of bytes, 1 or more, or a size such as 20MB/);
    await expect(resolve({}, { IMG_RESIZER_ALLOW_UPSCALE: 'maybe' })).rejects.toThrow(UsageError);
    // The function says the same of its own variable.
    expect(() => loadFunctionSettings({ DEST_BUCKET: 'd', TABLE_NAME: 't', [FUNCTION_ENV.quality]: '0' })).toThrow('OUTPUT_QUALITY: "0" is not a whole number from 1 to 100.');
    expect(() => loadFunctionSettings({ DEST_BUCKET: 'd', TABLE_NAME: 't', [FUNCTION_ENV.background]: 'see-through' })).toThrow(/BACKGROUND: "see-through" is not a colour/);
  });
});

describe('one range message per setting', () => {
  it.each([
    ['--memory', ['64', '999999999', 'lots'], 'is not a whole number of MB from 128 to 10240.'],
    ['--timeout', ['0', '901'], 'is not a whole number of seconds from 1 to 900.'],
    ['--quality', ['0', '101'], 'is not a whole number from 1 to 100.'],
    ['--max-event-age', ['59', '21601'], 'is not a whole number of seconds from 60 to 21600.'],
  ])('%s names the same range for a value too small, too large or not a number', async (flag, values, range) => {
    for (const value of values) {
      const { code, stderr } = await runCli(['init', flag, value, '--dry-run'], { cwd: dir });
      expect(code).toBe(2);
      expect(stderr).toContain(`${flag}: "${value}" ${range}`);
    }
  });

  it('and the settings check of the resolved values says it the same way', async () => {
    await expect(resolve({ memory: 64 })).rejects.toThrow('--memory: "64" is not a whole number of MB from 128 to 10240.');
    await expect(resolve({ memory: 999_999_999 })).rejects.toThrow('--memory: "999999999" is not a whole number of MB from 128 to 10240.');
    expect(() => parseSetting('memory', '64')).toThrow('"64" is not a whole number of MB from 128 to 10240.');
  });
});

describe('the settings file is checked on load', () => {
  const valid = { stackName: 'demo', sourceBucket: 'demo-src', destBucket: 'demo-dst', table: 'demo-t', functionName: 'demo-f', sizes: 'thumb=50x50', format: 'png' };

  async function settingsFile(name: string, content: Record<string, unknown>): Promise<string> {
    await writeFile(path.join(dir, `${name}.json`), JSON.stringify(content));
    return path.join(dir, `${name}.json`);
  }

  // The two of the issue also through the CLI (each run takes seconds); the rest through the reader the CLI uses.
  it.each([
    [{ sizes: 'thumb=abc' }, '"sizes": "thumb=abc" is not a size; write name=WIDTHxHEIGHT', true],
    [{ memory: 'lots' }, '"memory": "lots" is not a whole number of MB from 128 to 10240.', true],
    [{ memory: 64 }, '"memory": "64" is not a whole number of MB from 128 to 10240.', false],
    [{ format: 'bmp' }, '"format": "bmp" is not one of png, jpeg, webp, avif, original.', false],
    [{ quality: 'high' }, '"quality": "high" is not a whole number from 1 to 100.', false],
    [{ background: 'transparent-ish' }, '"background": "transparent-ish" is not a colour', false],
    [{ notifications: 'sometimes' }, '"notifications": "sometimes" is not on or off', false],
    [{ sourceBucket: 'Bad_Bucket' }, '"sourceBucket": "Bad_Bucket" may contain only lower-case letters', false],
    [{ memory: { mb: 1024 } }, '"memory": {"mb":1024} is not a whole number of MB', false],
  ])('%j: exit 2, naming the file and the key, before any AWS call', async (bad, message, viaCli) => {
    const file = await settingsFile('bad', { ...valid, ...bad });
    await expect(readSettingsFile(file)).rejects.toThrow(UsageError);
    await expect(readSettingsFile(file)).rejects.toThrow(`${file}: ${message}`);
    if (!viaCli) return;
    // Through the CLI: status would go to AWS, but the file stops it first (port 9 would refuse it anyway).
    const { code, stderr } = await runCli(['status', '--config', file, '--endpoint-url', 'http://127.0.0.1:9'], {
      cwd: dir,
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`${path.basename(file)}: ${message}`);
  });

  it('reads values as their flags do ("2048" is 2048, "20MB" is bytes) and takes null as unset', async () => {
    const file = await settingsFile('lenient', { ...valid, memory: '2048', maxBytes: '20MB', allowUpscale: 'true', quality: null });
    expect(await readSettingsFile(file)).toMatchObject({ memory: 2048, maxBytes: 20_971_520, allowUpscale: true });
    expect(await readSettingsFile(file)).not.toHaveProperty('quality');
  });

  it('warns once about unknown keys, naming them, and goes on', async () => {
    const warnings: string[] = [];
    const file = await settingsFile('unknown', { ...valid, qualty: 80, colour: 'red' });
    expect(await readSettingsFile(file, { warn: (message) => warnings.push(message) })).toMatchObject({ sizes: 'thumb=50x50' });
    expect(warnings).toEqual([`${file}: ignoring unknown keys "qualty", "colour" (a typo, or a setting of another version?).`]);

    // The CLI says it once, and the command runs (resize needs no AWS).
    const work = await mkdtemp(path.join(dir, 'unknown-'));
    await writeFile(path.join(work, 'img-resizer.config.json'), JSON.stringify({ ...valid, qualty: 80 }));
    await writeFile(path.join(work, 'a.png'), await whiteArtworkPng());
    const { code, stderr } = await runCli(['resize', 'a.png', '--out', 'out'], { cwd: work });
    expect(code).toBe(0);
    expect(stderr.match(/unknown key/g)).toEqual(['unknown key']);
    expect(stderr).toContain('"qualty"');
  });
});

describe('BACKGROUND: transparent pixels in a format without alpha', () => {
  it('flattens a transparent PNG onto the configured colour in JPEG, and the artwork stays white', async () => {
    const source = await whiteArtworkPng();
    const settings = loadFunctionSettings(functionEnvironment({ destBucket: 'd', table: 't', format: 'jpeg', sizes: 'full=100x100', background: '#102060' }));
    const { outputs } = await processImage(source, settings);
    const jpeg = outputs[0]?.body ?? Buffer.alloc(0);
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    expect(near(await pixelAt(jpeg, 5, 5), { r: 0x10, g: 0x20, b: 0x60 }, 12)).toBe(true);
    expect(near(await pixelAt(jpeg, 50, 50), { r: 255, g: 255, b: 255 }, 12)).toBe(true);
  });

  it('stays white by default, as before', async () => {
    const settings = loadFunctionSettings({ DEST_BUCKET: 'd', TABLE_NAME: 't', OUTPUT_FORMAT: 'jpeg', SIZES: 'full=100x100' });
    expect(settings.background).toEqual({ r: 255, g: 255, b: 255 });
    const { outputs } = await processImage(await whiteArtworkPng(), settings);
    expect(near(await pixelAt(outputs[0]?.body ?? Buffer.alloc(0), 5, 5), { r: 255, g: 255, b: 255 }, 12)).toBe(true);
  });

  it('pads a `contain` JPEG with it too, and leaves formats with alpha transparent', async () => {
    const source = await whiteArtworkPng();
    const wide = { sizes: [{ name: 'wide', width: 200, height: 100 }], fit: 'contain' as const, maxPixels: 1e8, allowUpscale: false, background: { r: 200, g: 0, b: 0 } };
    const jpeg = (await processImage(source, { ...wide, format: 'jpeg' })).outputs[0]?.body ?? Buffer.alloc(0);
    expect(near(await pixelAt(jpeg, 2, 50), { r: 200, g: 0, b: 0 }, 12)).toBe(true);
    const png = (await processImage(source, { ...wide, format: 'png' })).outputs[0]?.body ?? Buffer.alloc(0);
    expect((await pixelAt(png, 2, 50)).alpha).toBe(0);
  });
});

describe('resize uses the stack\'s quality and background; flags override', () => {
  it('makes the JPEG the function would make from the settings file, and --background / --quality win over it', async () => {
    const work = await mkdtemp(path.join(dir, 'resize-'));
    await writeFile(path.join(work, 'img-resizer.config.json'), JSON.stringify({ stackName: 'demo', sizes: 'full=100x100', format: 'jpeg', quality: 20, background: 'black' }));
    await writeFile(path.join(work, 'art.png'), await whiteArtworkPng());
    const stackRun = await runCli(['resize', 'art.png', '--out', 'stack'], { cwd: work });
    expect(stackRun.code).toBe(0);
    const stackJpeg = await sharpFile(path.join(work, 'stack'));
    expect(near(await pixelAt(stackJpeg, 5, 5), { r: 0, g: 0, b: 0 }, 12)).toBe(true);

    const flagRun = await runCli(['resize', 'art.png', '--out', 'flags', '--background', '#00ff00', '--quality', '95'], { cwd: work });
    expect(flagRun.code).toBe(0);
    const flagJpeg = await sharpFile(path.join(work, 'flags'));
    expect(near(await pixelAt(flagJpeg, 5, 5), { r: 0, g: 255, b: 0 }, 12)).toBe(true);
    // Quality 95 against the stack's 20: the same picture takes more bytes.
    expect(flagJpeg.length).toBeGreaterThan(stackJpeg.length);
  });
});

/** The one output under a resize --out directory. */
async function sharpFile(outDir: string): Promise<Buffer> {
  const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
  const file = entries.find((e) => e.isFile());
  if (!file) throw new Error(`no output under ${outDir}`);
  return readFile(path.join(file.parentPath, file.name));
}
