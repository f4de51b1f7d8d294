import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepInLayer, layerCacheDir, layerDescription, npmCpu, parseLayerDescription, pinnedSharpVersion, sharpPlatform } from '../../src/artifact/layer.js';
import { packageRoot } from '../../src/paths.js';

describe('the sharp layer recipe', () => {
  it('pins sharp to the version we test with', () => {
    const installed = (JSON.parse(readFileSync(path.join(packageRoot(), 'node_modules/sharp/package.json'), 'utf8')) as { version: string }).version;
    expect(pinnedSharpVersion()).toBe(installed);
  });

  it("maps Lambda's architectures to npm's cpu names", () => {
    expect(npmCpu('x86_64')).toBe('x64');
    expect(npmCpu('arm64')).toBe('arm64');
    expect(sharpPlatform('x86_64')).toBe('linux-x64');
  });

  it('keeps code, native binaries and licences, and drops docs, types, headers and sources', () => {
    const kept = [
      'sharp/dist/index.cjs',
      'sharp/package.json',
      'sharp/LICENSE',
      '@img/colour/LICENSE.md',
      '@img/sharp-linux-arm64/lib/sharp-linux-arm64-0.35.5.node',
      '@img/sharp-libvips-linux-arm64/lib/libvips-cpp.so.8.18.7',
      '@img/sharp-libvips-linux-arm64/versions.json',
      '@img/sharp-libvips-linux-arm64/README.md', // its licensing table
      'semver/bin/semver.js',
    ];
    const dropped = [
      '.package-lock.json',
      '.bin/semver',
      'sharp/README.md',
      'sharp/lib/index.d.ts',
      'sharp/dist/index.d.mts',
      'sharp/src/pipeline.cc',
      'sharp/src/binding.gyp',
      'sharp/install/build.js',
      '@img/sharp-libvips-linux-x64/lib/glib-2.0/include/glibconfig.h',
      'detect-libc/index.d.ts',
      'some-dep/dist/index.js.map',
      'some-dep/docs/guide.html',
    ];
    expect(kept.filter((p) => !keepInLayer(p))).toEqual([]);
    expect(dropped.filter((p) => keepInLayer(p))).toEqual([]);
  });

  it('describes a layer version so the next run can recognise its bytes', () => {
    const sha = 'a'.repeat(64);
    const description = layerDescription('0.35.5', 'arm64', sha);
    expect(description).toBe(`sharp 0.35.5 linux-arm64 glibc sha256:${sha}`);
    expect(description.length).toBeLessThanOrEqual(256); // Lambda's limit for a layer Description
    expect(parseLayerDescription(description)).toEqual({ sharpVersion: '0.35.5', platform: 'linux-arm64', sha256: sha });
    expect(parseLayerDescription('something a person typed')).toBeUndefined();
    expect(parseLayerDescription(undefined)).toBeUndefined();
  });

  it('caches per sharp version, architecture and package set', () => {
    const a = layerCacheDir('/c', '0.35.5', 'x86_64', ['sharp@0.35.5']);
    expect(a).toMatch(/^\/c\/layers\/sharp-0\.35\.5-linux-x64-glibc-[0-9a-f]{10}$/);
    expect(layerCacheDir('/c', '0.35.5', 'arm64', ['sharp@0.35.5'])).not.toBe(a);
    expect(layerCacheDir('/c', '0.35.5', 'x86_64', ['sharp@0.35.5', 'semver@7.8.6'])).not.toBe(a);
    expect(layerCacheDir('/c', '0.35.5', 'x86_64', ['sharp@0.35.5'])).toBe(a);
  });
});
