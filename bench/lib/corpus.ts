import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cacheDir } from '../../src/local/ministack.js';

const execFileAsync = promisify(execFile);

// fileURLToPath rather than import.meta.dirname, which Node 20 only has from 20.11 on (engines says >=20.9).
export const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FETCH_SCRIPT = path.resolve(REPO_ROOT, '..', 'shared', 'corpus', 'fetch-photos.sh');
/** The largest photograph of the corpus: the memory target is stated for it. */
export const LARGEST_PHOTO = 'Elephants_5640x3172.jpg';

export interface CorpusFile {
  name: string;
  path: string;
  bytes: number;
  /** From the name; the workers sniff the bytes themselves. */
  extension: string;
}

export interface Corpus {
  dir: string;
  files: CorpusFile[];
  /** How the corpus was found: "cached", "fetched" or "given". */
  origin: string;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export function defaultCorpusDir(): string {
  return path.join(cacheDir(), 'corpus');
}

async function listImages(dir: string): Promise<CorpusFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files: CorpusFile[] = [];
  for (const name of names.sort()) {
    const extension = path.extname(name).toLowerCase();
    if (!IMAGE_EXTENSIONS.has(extension)) continue;
    const file = path.join(dir, name);
    const info = await stat(file);
    if (info.isFile()) files.push({ name, path: file, bytes: info.size, extension });
  }
  return files;
}

/**
 * The corpus of real photographs: a directory given with --corpus, or the cache directory, which
 * ../shared/corpus/fetch-photos.sh fills (from Debian's archive) when it lacks the largest photo.
 */
export async function ensureCorpus(given: string | undefined, log: (line: string) => void): Promise<Corpus> {
  if (given !== undefined) {
    const files = await listImages(given);
    if (files.length === 0) throw new Error(`no images in ${given}`);
    return { dir: given, files, origin: 'given' };
  }
  const dir = defaultCorpusDir();
  const cached = await listImages(dir);
  if (cached.some((f) => f.name === LARGEST_PHOTO)) return { dir, files: cached, origin: 'cached' };
  try {
    await stat(FETCH_SCRIPT);
  } catch {
    throw new Error(`no corpus in ${dir} and no ${FETCH_SCRIPT} to fetch it`);
  }
  log(`Fetching the photo corpus into ${dir} with ${path.relative(process.cwd(), FETCH_SCRIPT)} …`);
  await execFileAsync('bash', [FETCH_SCRIPT, dir], { timeout: 5 * 60_000, maxBuffer: 4 * 1024 * 1024 });
  const files = await listImages(dir);
  if (files.length === 0) throw new Error(`${FETCH_SCRIPT} left no images in ${dir}`);
  return { dir, files, origin: 'fetched' };
}
