import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The user's cache directory (XDG on Linux, the platform's own elsewhere). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IMG_RESIZER_CACHE_DIR) return env.IMG_RESIZER_CACHE_DIR;
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'img-resizer');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? os.homedir(), 'img-resizer', 'Cache');
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'img-resizer');
}

let cachedRoot: string | undefined;

/**
 * The img-resizer package's own directory (where package.json, lambda-src/ and node_modules/ live).
 * Found by walking up, because this module runs both from src/ (tsx, tests) and from dist/src/.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'img-resizer') {
        cachedRoot = dir;
        return dir;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find the img-resizer package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
