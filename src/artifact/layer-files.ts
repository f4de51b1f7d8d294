import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from '../errors.js';
import type { Output } from '../ui/output.js';
import type { ZipEntryInput } from './zip.js';
import { LAYER_PREFIX } from './layer-cache.js';

/** What goes into the layer: the installed tree, walked, filtered to what runs, as zip entries. */

const LICENCE = /^(licen[cs]e|copying|notice|copyright)(\.[\w.-]+)?$/i;
const JUNK_FILE = /(\.(md|markdown)|\.d\.[cm]?ts|\.map|\.(h|hh|hpp|c|cc|cpp|gyp|gypi))$/i;
const JUNK_DIR = new Set(['docs', 'doc', 'test', 'tests', '__tests__', 'example', 'examples', 'benchmark', 'benchmarks']);

/** Whether a file (path relative to node_modules, forward slashes) is worth shipping in the layer. */
export function keepInLayer(relPath: string): boolean {
  const parts = relPath.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (parts.some((p) => p.startsWith('.'))) return false; // .bin links, .package-lock.json
  if (LICENCE.test(base)) return true;
  const pkgParts = parts[0]?.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, pkgParts).join('/');
  const inner = parts.slice(pkgParts, -1);
  // sharp-libvips' README carries the licensing table of the libraries it bundles.
  if (pkg.startsWith('@img/sharp-libvips-') && /^readme/i.test(base)) return true;
  if (inner.some((d) => JUNK_DIR.has(d.toLowerCase()))) return false;
  if (pkg.startsWith('@img/sharp-libvips-') && inner.includes('include')) return false;
  // sharp's C++ sources and its build-from-source script are for compiling, which the layer never does.
  if (pkg === 'sharp' && (inner[0] === 'src' || inner[0] === 'install')) return false;
  return !JUNK_FILE.test(base);
}

/** The layer's zip entries; symlinks to files inside the install are stored as those files, others fail. */
export async function layerEntries(nodeModules: string, output?: Output): Promise<ZipEntryInput[]> {
  const root = await realpath(nodeModules);
  const entries: ZipEntryInput[] = [];
  const dropped: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = path.join(dir, name);
      const rel = path.relative(nodeModules, full).split(path.sep).join('/');
      let info = await lstat(full);
      let source = full;
      if (info.isSymbolicLink()) {
        const target = await realpath(full).catch(() => undefined);
        const targetInfo = target?.startsWith(root + path.sep) ? await stat(target) : undefined;
        if (target === undefined || !targetInfo?.isFile()) {
          if (!keepInLayer(rel)) { dropped.push(rel); continue; }
          throw new CliError('LAYER_SYMLINK', `The sharp layer would contain a symlink (${rel}), which Lambda rejects.`, {
            suggestion: 'Report this: npm installed a linked package into the layer.',
          });
        }
        source = target;
        info = targetInfo;
      }
      if (info.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!info.isFile()) continue;
      if (!keepInLayer(rel)) {
        dropped.push(rel);
        continue;
      }
      entries.push({ path: `${LAYER_PREFIX}/${rel}`, data: await readFile(source), mode: info.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  await walk(nodeModules);
  output?.debug(`Left out of the layer (${dropped.length}): ${dropped.join(', ')}`);
  return entries;
}
