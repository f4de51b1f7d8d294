import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yauzl from 'yauzl';
import yazl from 'yazl';

export interface ZipEntryInput {
  /** Path inside the zip, forward slashes, relative. */
  path: string;
  /** The bytes, or the path of a file on disk to read them from. */
  data: Buffer | string;
  /** Permission bits; 0o644 unless given (0o755 for executables). */
  mode?: number;
}

export interface ZipEntryInfo {
  path: string;
  /** Uncompressed size in bytes. */
  size: number;
  compressedSize: number;
  /** Unix mode from the external attributes (type and permission bits), 0 when none was recorded. */
  mode: number;
  isDirectory: boolean;
  isSymlink: boolean;
}

/**
 * Every entry gets 2000-01-01 00:00 as plain DOS date/time fields (no extended UTC timestamp). yazl
 * writes DOS fields from local time, so the date is built from local-time parts, at each call (the
 * zone may change at run time): the same bytes in every time zone.
 */
function fixedMtime(): Date {
  return new Date(2000, 0, 1, 0, 0, 0);
}
/** Fixed so the bytes (and CodeSha256) depend on the inputs alone. */
export const ZIP_COMPRESSION_LEVEL = 9;
const S_IFREG = 0o100000;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

function checkEntryPath(entryPath: string): void {
  const bad =
    entryPath === '' ||
    entryPath.startsWith('/') ||
    entryPath.includes('\\') ||
    entryPath.endsWith('/') ||
    entryPath.split('/').some((part) => part === '' || part === '.' || part === '..');
  if (bad) throw new Error(`Invalid zip entry path: ${JSON.stringify(entryPath)}`);
}

/** Byte-wise order, independent of locale. */
function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * A zip whose bytes depend only on the entries' paths, contents and modes: entries sorted by path,
 * one fixed timestamp, fixed modes and compression level, no directory entries (Lambda and unzip
 * create parent directories themselves).
 */
export async function deterministicZip(entries: readonly ZipEntryInput[]): Promise<Buffer> {
  const sorted = [...entries].sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 0; i < sorted.length; i += 1) {
    const entry = sorted[i];
    if (entry === undefined) continue;
    checkEntryPath(entry.path);
    if (i > 0 && sorted[i - 1]?.path === entry.path) throw new Error(`Duplicate zip entry: ${entry.path}`);
  }

  const zip = new yazl.ZipFile();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => { resolve(Buffer.concat(chunks)); });
    zip.outputStream.on('error', reject);
  });
  for (const entry of sorted) {
    const data = typeof entry.data === 'string' ? await readFile(entry.data) : entry.data;
    const permissions = (entry.mode ?? 0o644) & 0o7777;
    zip.addBuffer(data, entry.path, {
      mtime: fixedMtime(),
      forceDosTimestamp: true,
      mode: S_IFREG | permissions,
      compressionLevel: ZIP_COMPRESSION_LEVEL,
    });
  }
  zip.end();
  return done;
}

export function sha256Hex(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Lambda's CodeSha256 (and a layer version's CodeSha256): base64 of the zip's SHA-256. */
export function lambdaCodeSha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('base64');
}

function openZip(buf: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true }, (error, zip) => {
      if (error) reject(error);
      else resolve(zip);
    });
  });
}

/** Walks a zip's entries in order; `visit` may read the entry's bytes through `read`. */
async function walkZip(buf: Buffer, visit: (entry: yauzl.Entry, read: () => Promise<Buffer>) => Promise<void>): Promise<void> {
  const zip = await openZip(buf);
  await new Promise<void>((resolve, reject) => {
    const read = (entry: yauzl.Entry) => (): Promise<Buffer> =>
      new Promise<Buffer>((res, rej) => {
        zip.openReadStream(entry, (error, stream) => {
          if (error) { rej(error); return; }
          const parts: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => parts.push(chunk));
          stream.on('end', () => { res(Buffer.concat(parts)); });
          stream.on('error', rej);
        });
      });
    zip.on('entry', (entry: yauzl.Entry) => {
      visit(entry, read(entry)).then(() => { zip.readEntry(); }, (error: unknown) => { zip.close(); reject(error instanceof Error ? error : new Error(String(error))); });
    });
    zip.on('end', () => { resolve(); });
    zip.on('error', reject);
    zip.readEntry();
  });
}

function entryInfo(entry: yauzl.Entry): ZipEntryInfo {
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  return {
    path: entry.fileName,
    size: entry.uncompressedSize,
    compressedSize: entry.compressedSize,
    mode,
    isDirectory: entry.fileName.endsWith('/') || (mode & S_IFMT) === S_IFDIR,
    isSymlink: (mode & S_IFMT) === S_IFLNK,
  };
}

/** The entries of a zip, in the zip's order. */
export async function listZipEntries(buf: Buffer): Promise<ZipEntryInfo[]> {
  const entries: ZipEntryInfo[] = [];
  await walkZip(buf, (entry) => {
    entries.push(entryInfo(entry));
    return Promise.resolve();
  });
  return entries;
}

/** Sum of the entries' uncompressed sizes (what Lambda counts against its 250 MB limit). */
export async function unzippedSize(buf: Buffer): Promise<number> {
  const entries = await listZipEntries(buf);
  return entries.reduce((sum, e) => sum + e.size, 0);
}

/** Extracts a zip into `dir` (as Lambda does into /var/task or /opt); refuses paths that escape it. */
export async function extractZip(buf: Buffer, dir: string): Promise<void> {
  const root = path.resolve(dir);
  await walkZip(buf, async (entry, read) => {
    const info = entryInfo(entry);
    const target = path.resolve(root, info.path);
    if (target !== root && !target.startsWith(root + path.sep)) throw new Error(`Zip entry escapes the target directory: ${info.path}`);
    if (info.isDirectory) {
      await mkdir(target, { recursive: true });
      return;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, await read(), { mode: info.mode & 0o777 || 0o644 });
  });
}
