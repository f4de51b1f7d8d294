import { existsSync, readFileSync, realpathSync } from 'node:fs';
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

/**
 * The user's data directory for img-resizer (XDG on Linux, the platform's own elsewhere): state that must
 * outlive a cache clean, such as the local stack's, one per user and found from any directory.
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IMG_RESIZER_DATA_DIR) return env.IMG_RESIZER_DATA_DIR;
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'img-resizer');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? os.homedir(), 'img-resizer', 'Data');
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'img-resizer');
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

function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

/**
 * How the operator runs this CLI from `cwd`, so a printed next step works when pasted: `img-resizer` when the
 * command on PATH is this package (global install, `npm link`), `npx img-resizer` inside a clone or a project
 * that depends on it, else node with the bin's full path.
 */
export function cliCommand(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = packageRoot();
  const bin = realpathOrUndefined(path.join(root, 'bin', 'img-resizer.js'));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const onPath = realpathOrUndefined(path.join(dir, 'img-resizer'));
    if (onPath !== undefined && onPath === bin) return 'img-resizer';
  }
  const relative = path.relative(root, cwd);
  const insideClone = !relative.startsWith('..') && !path.isAbsolute(relative);
  const dependency = realpathOrUndefined(path.join(cwd, 'node_modules', 'img-resizer'));
  if (insideClone || (dependency !== undefined && dependency === realpathOrUndefined(root))) return 'npx img-resizer';
  return `node ${shellWord(bin ?? path.join(root, 'bin', 'img-resizer.js'))}`;
}

/** A word the shell passes through unchanged (quoted only when it has to be). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
