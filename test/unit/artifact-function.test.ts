import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionZip, checkSizes, MAX_FUNCTION_ZIP_BYTES, type Artifact } from '../../src/artifact/build.js';
import { bundleFunction } from '../../src/artifact/function-bundle.js';
import { listZipEntries } from '../../src/artifact/zip.js';
import { CliError } from '../../src/errors.js';
import { packageRoot } from '../../src/paths.js';
import { supportedRuntimes } from '../../src/runtimes.js';

const execFileAsync = promisify(execFile);

/*
 * A stand-in handler outside the repository, shaped like the real one: AWS SDK clients (bundled),
 * sharp loaded through createRequire (external), and a CommonJS dependency that requires Node
 * built-ins (yazl), which only works in an ESM bundle with the createRequire banner.
 */
const HANDLER = `
import { createRequire } from 'node:module';
import { S3Client } from '@aws-sdk/client-s3';
import yazl from 'yazl';

const s3 = new S3Client({ region: 'us-east-1' });

export async function handler() {
  const sharp = createRequire(import.meta.url)('sharp');
  return { zip: typeof yazl.ZipFile, s3: typeof s3.send, sharp: typeof sharp };
}

export const probe = { zip: typeof yazl.ZipFile, s3: typeof s3.send };
`;

let dir: string;
let entry: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bundle-test-'));
  entry = path.join(dir, 'handler.ts');
  await writeFile(entry, HANDLER);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleFunction', () => {
  it('gives the same bytes twice, with no absolute paths in them', async () => {
    const first = await bundleFunction({ entry });
    const second = await bundleFunction({ entry });
    expect(second.code.equals(first.code)).toBe(true);
    const code = first.code.toString('utf8');
    expect(code).not.toContain(packageRoot());
    expect(code).not.toContain(dir);
    expect(first.map).toBeUndefined();
  });

  it('keeps sharp external, bundles the AWS SDK, and runs as ESM where no node_modules exist', async () => {
    const { code, largestInputs } = await bundleFunction({ entry });
    const text = code.toString('utf8');
    expect(text.startsWith("import { createRequire as __imgResizerCreateRequire } from 'node:module';")).toBe(true);
    expect(text).toContain('"sharp"');
    expect(text).not.toContain('sharp-libvips');
    expect(largestInputs.some((i) => i.path.includes('@aws-sdk/client-s3'))).toBe(true);

    // A directory outside the repository: nothing but index.mjs, so every import must be bundled.
    const runDir = path.join(dir, 'task');
    await execFileAsync('mkdir', ['-p', runDir]);
    await writeFile(path.join(runDir, 'index.mjs'), code);
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('./index.mjs'); process.stdout.write(JSON.stringify(m.probe));"],
      { cwd: runDir, env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    expect(JSON.parse(stdout)).toEqual({ zip: 'function', s3: 'function' });
  });

  it('adds a source map with relative sources only when asked', async () => {
    const { code, map } = await bundleFunction({ entry, sourcemap: true });
    expect(code.toString('utf8').trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
    const parsed = JSON.parse(map?.toString('utf8') ?? '{}') as { sources: string[] };
    expect(parsed.sources.length).toBeGreaterThan(10);
    expect(parsed.sources.every((s) => !path.isAbsolute(s))).toBe(true);
  });

  it('bundles for every supported runtime (its esbuild target), deterministically', async () => {
    // Today's code needs no syntax lowered differently for node22 and node24, so the two outputs may match;
    // what matters is that esbuild accepts each runtime's target and gives stable bytes for it.
    for (const runtime of supportedRuntimes()) {
      const first = await bundleFunction({ entry, runtime: runtime.id });
      const second = await bundleFunction({ entry, runtime: runtime.id });
      expect(second.code.equals(first.code), runtime.id).toBe(true);
      expect(first.code.toString('utf8'), runtime.id).toContain('"sharp"');
    }
  });

  it('says which file is missing', async () => {
    await expect(bundleFunction({ entry: path.join(dir, 'nope.ts') })).rejects.toMatchObject({ code: 'FUNCTION_SOURCE_MISSING' });
  });

  it('reports a bundling error with its location', async () => {
    const broken = path.join(dir, 'broken.ts');
    await writeFile(broken, "import { nothing } from './does-not-exist.js';\nexport const handler = nothing;\n");
    await expect(bundleFunction({ entry: broken })).rejects.toMatchObject({ code: 'FUNCTION_BUNDLE_FAILED', message: expect.stringContaining('broken.ts:1') as unknown });
  });
});

describe('buildFunctionZip', () => {
  it('zips index.mjs alone, byte-identical across builds', async () => {
    const first = await buildFunctionZip({ entry });
    const second = await buildFunctionZip({ entry });
    expect(second.artifact.bytes.equals(first.artifact.bytes)).toBe(true);
    expect(second.artifact.codeSha256).toBe(first.artifact.codeSha256);
    expect((await listZipEntries(first.artifact.bytes)).map((e) => e.path)).toEqual(['index.mjs']);
    expect(first.artifact.name).toBe('function.zip');
  });

  it('ships the source map in the zip when asked', async () => {
    const { artifact } = await buildFunctionZip({ entry, sourcemap: true });
    expect((await listZipEntries(artifact.bytes)).map((e) => e.path)).toEqual(['index.mjs', 'index.mjs.map']);
  });
});

describe('checkSizes', () => {
  const artifact = (name: string, size: number, unzippedSize: number): Artifact => ({
    name,
    bytes: Buffer.alloc(0),
    size,
    unzippedSize,
    sha256: '',
    codeSha256: '',
  });
  const MB = 1024 * 1024;

  it('passes artifacts within the limits', () => {
    expect(() => { checkSizes(artifact('function.zip', 200_000, 600_000), artifact('sharp-layer-x86_64.zip', 9 * MB, 20 * MB)); }).not.toThrow();
  });

  it('names the function zip when it exceeds 5 MB, with its largest inputs', () => {
    const check = () => {
      checkSizes(artifact('function.zip', MAX_FUNCTION_ZIP_BYTES + 1, 6 * MB), artifact('sharp-layer-x86_64.zip', 9 * MB, 20 * MB), [
        { path: 'node_modules/huge/index.js', bytesInOutput: 4 * MB },
      ]);
    };
    expect(check).toThrow(CliError);
    expect(check).toThrow(/function\.zip is 5\.00 MB/);
    try {
      check();
    } catch (error) {
      expect((error as CliError).suggestion).toContain('node_modules/huge/index.js');
    }
  });

  it('names the layer when it exceeds 50 MB zipped', () => {
    expect(() => { checkSizes(artifact('function.zip', 1000, 2000), artifact('sharp-layer-arm64.zip', 51 * MB, 120 * MB)); }).toThrow(/sharp-layer-arm64\.zip is 51\.0 MB/);
  });

  it('names the larger part when function and layer exceed 250 MB unzipped', () => {
    expect(() => { checkSizes(artifact('function.zip', 1000, 2 * MB), artifact('sharp-layer-x86_64.zip', 40 * MB, 249 * MB)); }).toThrow(
      /251 MB unzipped.*the larger is sharp-layer-x86_64\.zip/,
    );
  });
});
