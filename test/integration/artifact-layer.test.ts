import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSharpLayer, npmCpu, pinnedSharpVersion, type LambdaArch, type LayerArtifact } from '../../src/artifact/layer.js';
import { extractZip, listZipEntries } from '../../src/artifact/zip.js';

// These tests need the npm registry, or layers already in the user's cache (which they use and fill).

const ELF_MACHINE: Record<LambdaArch, number> = { x86_64: 0x3e, arm64: 0xb7 };
const OTHER: Record<LambdaArch, LambdaArch> = { x86_64: 'arm64', arm64: 'x86_64' };

let tmp: string;
const layers = new Map<LambdaArch, LayerArtifact>();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-layer-test-'));
  for (const arch of ['x86_64', 'arm64'] as const) layers.set(arch, await buildSharpLayer({ arch }));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.each(['x86_64', 'arm64'] as const)('the %s layer', (arch) => {
  const cpu = npmCpu(arch);
  const otherCpu = npmCpu(OTHER[arch]);

  it(`holds the linux-${cpu} glibc binaries and none for another platform`, async () => {
    const layer = layers.get(arch)!;
    const paths = (await listZipEntries(layer.bytes)).map((e) => e.path);
    const version = pinnedSharpVersion();
    expect(paths).toContain(`nodejs/node_modules/@img/sharp-linux-${cpu}/lib/sharp-linux-${cpu}-${version}.node`);
    expect(paths.some((p) => p.startsWith(`nodejs/node_modules/@img/sharp-libvips-linux-${cpu}/lib/libvips-cpp.so`))).toBe(true);
    expect(paths.filter((p) => p.includes(`linux-${otherCpu}`) || /linuxmusl|darwin|win32|wasm/.test(p))).toEqual([]);

    // The binaries themselves are built for the architecture (ELF e_machine), not merely named for it.
    const dir = path.join(tmp, `opt-${arch}`);
    await extractZip(layer.bytes, dir);
    const binaries = paths.filter((p) => /\.node$|\.so[.\d]*$/.test(p));
    expect(binaries).toHaveLength(2);
    for (const binary of binaries) {
      const header = await readFile(path.join(dir, binary));
      expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(header.readUInt16LE(18)).toBe(ELF_MACHINE[arch]);
    }
  });

  it('has sharp and its dependencies under nodejs/node_modules, no symlinks, licences but no docs or types', async () => {
    const layer = layers.get(arch)!;
    const entries = await listZipEntries(layer.bytes);
    expect(entries.every((e) => e.path.startsWith('nodejs/node_modules/'))).toBe(true);
    expect(entries.filter((e) => e.isSymlink || e.isDirectory)).toEqual([]);
    const paths = entries.map((e) => e.path);
    for (const pkg of ['sharp', 'detect-libc', 'semver', '@img/colour']) {
      expect(paths).toContain(`nodejs/node_modules/${pkg}/package.json`);
    }
    expect(paths).toContain('nodejs/node_modules/sharp/LICENSE');
    expect(paths.filter((p) => /\.d\.[cm]?ts$|\.h$|\.cc$|\/\.bin\//.test(p))).toEqual([]);
    expect(layer.size).toBeLessThan(12 * 1024 * 1024);
    expect(layer.description).toBe(`sharp ${layer.sharpVersion} linux-${cpu} glibc sha256:${layer.sha256}`);
  });
});

describe('building the layer', () => {
  it('gives byte-identical zips from two fresh npm installs, and the cache serves the same bytes', async () => {
    const cacheDir = path.join(tmp, 'fresh-cache');
    const first = await buildSharpLayer({ arch: 'x86_64', cacheDir, fresh: true });
    const second = await buildSharpLayer({ arch: 'x86_64', cacheDir, fresh: true });
    const cached = await buildSharpLayer({ arch: 'x86_64', cacheDir });
    expect(first.fromCache).toBe(false);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    expect(cached.fromCache).toBe(true);
    expect(cached.bytes.equals(first.bytes)).toBe(true);
    // And the same as the layer in the user's cache, built on another day.
    expect(first.sha256).toBe(layers.get('x86_64')!.sha256);
  });

  it('serves the cache without a registry, and says what is missing when the cache is empty', async () => {
    const offline = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_cache: path.join(tmp, 'empty-npm-cache') };
    const emptyCache = path.join(tmp, 'empty-cache');
    const error: unknown = await buildSharpLayer({ arch: 'arm64', cacheDir: emptyCache, env: offline }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LAYER_REGISTRY_UNREACHABLE' });
    expect((error as Error).message).toContain(`sharp ${pinnedSharpVersion()} for linux-arm64`);
    expect((error as Error).message).toContain(emptyCache);

    const warmCache = path.join(tmp, 'fresh-cache'); // filled by the previous test (x86_64)
    const served = await buildSharpLayer({ arch: 'x86_64', cacheDir: warmCache, env: offline });
    expect(served.fromCache).toBe(true);
    expect(served.sha256).toBe(layers.get('x86_64')!.sha256);
  });
});
