/**
 * The bench's Node.js worker, bundled by esbuild and run as a child process, so what it measures is a plain
 * `node` (no TypeScript loader) holding only the libraries of the engine at hand.
 *
 *   serve CONFIG   preload CONFIG.files, print {"ready":true}, then answer one JSON line per request
 *                  {"engine", "files":[indices]} with {"times":[ms per file]}: a timed pass, run on request so
 *                  the parent can interleave engines and processes round by round.
 *   peak CONFIG    run CONFIG.engine once on CONFIG.file and print {"maxRssKib", "ms"}: one fresh process per case.
 *
 * "ours" comes from the image core bundled separately (CONFIG.core), so this worker builds before it exists.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type SharpModule from 'sharp';
import { LARGE_ONLY, sizeSpec, THREE_SIZES, THUMBNAIL, type EngineName, type PeakConfig, type ServeConfig } from '../lib/engines.js';

type Engine = (input: Buffer) => Promise<unknown>;

/** The image core's bundle (bench/lib/bundle.ts): its exports, typed from the sources. */
type SourceObject = import('../../lambda-src/core/process-record.js').SourceObject;

type CoreModule = Pick<typeof import('../../lambda-src/core/image.js'), 'processImage'> &
  Pick<typeof import('../../lambda-src/core/sizes.js'), 'parseSizeSpec'> &
  Pick<typeof import('../../lambda-src/core/settings.js'), 'DEFAULT_MAX_PIXELS' | 'DEFAULT_MAX_BYTES' | 'loadFunctionSettings'> &
  Pick<typeof import('../../lambda-src/core/process-record.js'), 'processRecord'> &
  Pick<typeof import('../../lambda-src/core/jpeg/progressive.js'), 'setDcScanDecoding'>;

async function loadCore(corePath: string | undefined): Promise<CoreModule> {
  if (corePath === undefined) throw new Error('the image core is not available');
  loadSharp();
  return (await import(pathToFileURL(corePath).href)) as CoreModule;
}

/**
 * The function's processing of one upload, S3 and DynamoDB replaced by in-memory ports (no network, no
 * emulator): read the object, resize to the default sizes, "write" the outputs and the metadata item.
 */
function handlerEngine(core: CoreModule): Engine {
  const settings = core.loadFunctionSettings({ DEST_BUCKET: 'bench-dest', TABLE_NAME: 'bench-table', SOURCE_BUCKET: 'bench-source' });
  const written = new Map<string, unknown>();
  const ports = {
    getObject: (_bucket: string, _key: string) => Promise.resolve(current),
    putObject: (request: { key: string; body: Buffer }) => {
      written.set(request.key, request.body);
      return Promise.resolve();
    },
    putItem: (item: unknown) => {
      written.set('item', item);
      return Promise.resolve();
    },
  };
  let current: SourceObject = { contentLength: 0, eTag: 'e', lastModified: new Date(0), read: () => Promise.resolve(Buffer.alloc(0)), discard: () => undefined };
  let serial = 0;
  return async (input) => {
    serial += 1;
    current = { ...current, contentLength: input.length, read: () => Promise.resolve(input) };
    const record = { bucket: 'bench-source', rawKey: `photo-${serial}.jpg`, key: `photo-${serial}.jpg`, eventName: 'ObjectCreated:Put', size: input.length, eTag: 'e', sequencer: undefined };
    const result = await core.processRecord(record, settings, ports);
    written.clear();
    if (result.status !== 'SUCCEEDED') throw new Error(`processRecord: ${result.status} ${result.errorMessage ?? result.reason ?? ''}`);
    return result;
  };
}

/** sharp as the function loads it (require, see lambda-src/core/sharp.ts), so ours and the others share one instance. */
function loadSharp(): typeof SharpModule {
  const sharp = createRequire(import.meta.url)('sharp') as typeof SharpModule;
  // Every Lambda invocation sees a new image, so libvips' operation cache could only flatter repeated passes
  // (the function turns it off too).
  sharp.cache(false);
  return sharp;
}

async function loadEngine(name: EngineName, corePath: string | undefined): Promise<Engine> {
  switch (name) {
    case 'idle':
      return () => Promise.resolve(0);
    case 'idle-sharp': {
      const sharp = loadSharp();
      return () => Promise.resolve(sharp.versions.vips);
    }
    case 'bare-1': {
      // The floor: decode and resize to the thumbnail, nothing else (no orientation, no checks).
      const sharp = loadSharp();
      return (input) => sharp(input).resize(THUMBNAIL.width, THUMBNAIL.height, { fit: 'cover' }).png().toBuffer();
    }
    case 'naive-3': {
      // The naive way: one full pipeline per size, all three at once, each decoding the source.
      const sharp = loadSharp();
      return (input) =>
        Promise.all(
          THREE_SIZES.map((s) =>
            sharp(input).rotate().resize(s.width, s.height, { fit: 'cover', withoutEnlargement: true }).png().toBuffer(),
          ),
        );
    }
    case 'ours-1':
    case 'ours-1-nodc':
    case 'ours-1600':
    case 'ours-3': {
      const core = await loadCore(corePath);
      const sizes = core.parseSizeSpec(sizeSpec(name === 'ours-3' ? THREE_SIZES : name === 'ours-1600' ? LARGE_ONLY : [THUMBNAIL]));
      // The function's defaults: limits on, no upscaling.
      const options = { sizes, format: 'png', fit: 'cover', maxPixels: core.DEFAULT_MAX_PIXELS, maxBytes: core.DEFAULT_MAX_BYTES, allowUpscale: false } as const;
      if (name !== 'ours-1-nodc') return (input) => core.processImage(input, options);
      // Today's path before the DC-scan decoder: the switch is flipped only around this engine's own call.
      return async (input) => {
        core.setDcScanDecoding(false);
        try {
          return await core.processImage(input, options);
        } finally {
          core.setDcScanDecoding(true);
        }
      };
    }
    case 'handler-1':
      return handlerEngine(await loadCore(corePath));
    case 'jimp-1': {
      const { Jimp } = await import('jimp');
      return async (input) => {
        const image = await Jimp.read(input);
        image.cover({ w: THUMBNAIL.width, h: THUMBNAIL.height });
        return image.getBuffer('image/png');
      };
    }
  }
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function serve(config: ServeConfig): Promise<void> {
  if (config.sharpConcurrency !== undefined) loadSharp().concurrency(config.sharpConcurrency);
  const inputs = await Promise.all(config.files.map((file) => readFile(file)));
  const engines = new Map<EngineName, Engine>();
  for (const name of config.engines) engines.set(name, await loadEngine(name, config.core));
  send({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const request = JSON.parse(line) as { engine: EngineName; files: number[] };
    try {
      const engine = engines.get(request.engine);
      if (!engine) throw new Error(`engine ${request.engine} not loaded`);
      collectGarbage();
      const times: number[] = [];
      for (const index of request.files) {
        const input = inputs[index];
        if (!input) throw new Error(`no file ${index}`);
        const started = performance.now();
        await engine(input);
        times.push(performance.now() - started);
      }
      send({ times });
    } catch (error) {
      send({ error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/**
 * This process's own peak RSS in KiB. Linux's getrusage (process.resourceUsage().maxRSS) also counts the memory
 * of the parent at fork, so every worker of the bench (itself a few hundred MB) would report at least that; VmHWM
 * in /proc/self/status is the high-water mark of this process's own memory, which starts afresh at exec.
 */
function peakRssKib(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', { encoding: 'utf8', flag: 'r' }))?.[1];
  return hwm === undefined ? process.resourceUsage().maxRSS : Number(hwm);
}

async function peak(config: PeakConfig): Promise<void> {
  const engine = await loadEngine(config.engine, config.core);
  const input = config.engine === 'idle' || config.engine === 'idle-sharp' ? Buffer.alloc(0) : await readFile(config.file);
  const started = performance.now();
  await engine(input);
  const ms = performance.now() - started;
  send({ maxRssKib: peakRssKib(), ms });
}

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  if (json === undefined) throw new Error('usage: image-worker serve|peak CONFIG_JSON');
  if (mode === 'serve') await serve(JSON.parse(json) as ServeConfig);
  else if (mode === 'peak') await peak(JSON.parse(json) as PeakConfig);
  else throw new Error(`unknown mode ${mode ?? ''}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
