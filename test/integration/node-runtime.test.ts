import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { installNodeForRuntime, installNodeRuntime, pathWithFirst, pinnedNodeVersion } from '../../src/local/node-runtime.js';
import { supportedRuntimes } from '../../src/runtimes.js';

const execFileAsync = promisify(execFile);

/*
 * Uses the npm registry (the real packages); the user's cache directory keeps the installs, so reruns are
 * instant. Only the concurrency test installs into a fresh cache directory (npm's own cache serves it).
 */
describe('installing the Node.js a Lambda runtime runs', () => {
  const scratch: string[] = [];
  afterAll(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  for (const runtime of supportedRuntimes()) {
    it(`installs Node ${runtime.nodeMajor} for ${runtime.id} and a PATH with it first runs it as \`node\``, async () => {
      const install = await installNodeForRuntime(runtime.id);
      expect(install.major).toBe(runtime.nodeMajor);
      expect(install.version).toBe(pinnedNodeVersion(runtime.nodeMajor));
      // What MiniStack does: spawn a bare `node`, found on PATH.
      const { stdout } = await execFileAsync('node', ['-p', 'process.versions.node'], { env: { ...process.env, PATH: pathWithFirst(install.binDir) } });
      expect(stdout.trim()).toBe(install.version);
      expect(Number(stdout.split('.')[0])).toBe(runtime.nodeMajor);

      const again = await installNodeForRuntime(runtime.id);
      expect(again).toEqual({ ...install, installed: false });
    });
  }

  it('installs once when several processes ask at the same time', async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-node-cache-'));
    scratch.push(cache);
    const env = { ...process.env, IMG_RESIZER_CACHE_DIR: cache };
    const results = await Promise.all([installNodeRuntime(22, { env }), installNodeRuntime(22, { env }), installNodeRuntime(22, { env })]);
    expect(results.filter((r) => r.installed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.node)).size).toBe(1);
    expect(results[0].node.startsWith(cache)).toBe(true);
  });
});
