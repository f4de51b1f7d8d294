import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UsageError } from '../errors.js';

/** One local file and the key it goes to. */
export interface UploadEntry {
  /** Absolute path. */
  file: string;
  /** The path as the operator would recognise it (relative to the working directory when inside it). */
  display: string;
  key: string;
  bytes: number;
}

export interface SniffedEntry extends UploadEntry {
  /** Detected from the bytes; undefined when the bytes match no known type. */
  mime: string | undefined;
  isImage: boolean;
  contentType: string;
}

/**
 * "photos", "/photos/" and "photos/" all mean the folder photos/; empty means the bucket root.
 * A key prefix is a folder here, as in the contract's "keys under --prefix".
 */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '');
  if (trimmed === '') return '';
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** Object key for a file path relative to its base: forward slashes, NFC (what people type), under the prefix. */
export function keyFor(prefix: string, relativePath: string): string {
  const posix = relativePath.split(path.sep).join('/').replace(/^\.\/+/, '');
  return `${prefix}${posix}`.normalize('NFC');
}

/**
 * The leading part of a glob without wildcards. Matches are named relative to it, so a recursive pattern keeps
 * the sub-folders below its fixed part and `*.jpg` keeps bare names.
 */
export function globBase(pattern: string): string {
  const segments = pattern.split('/');
  const fixed: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (isDynamicPattern(segment)) break;
    fixed.push(segment);
  }
  if (fixed.length === 0) return '.';
  const base = fixed.join('/');
  return base === '' ? '/' : base;
}

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * Expands the operator's arguments into files and keys. A file keeps its name; a directory contributes every
 * file below it (hidden ones excluded) named relative to the directory, as `aws s3 cp --recursive` does; a glob
 * contributes its matches named relative to its fixed leading part. Two files aiming at one key are refused.
 */
export async function expandUploadPaths(inputs: readonly string[], options: { cwd: string; prefix: string }): Promise<UploadEntry[]> {
  if (inputs.length === 0) throw new UsageError('Give at least one file, directory or glob to upload.');
  const byKey = new Map<string, UploadEntry>();
  const add = (file: string, relative: string, bytes: number): void => {
    const entry: UploadEntry = { file, display: displayPath(options.cwd, file), key: keyFor(options.prefix, relative), bytes };
    const existing = byKey.get(entry.key);
    if (existing && existing.file !== file) {
      throw new UsageError(
        `${existing.display} and ${entry.display} would both be uploaded as "${entry.key}".`,
        'Upload them separately with different --prefix values.',
      );
    }
    byKey.set(entry.key, entry);
  };

  for (const input of inputs) {
    const absolute = path.resolve(options.cwd, input);
    const info = await statOrUndefined(absolute);
    if (info?.isFile()) {
      add(absolute, path.basename(absolute), info.size);
      continue;
    }
    if (info?.isDirectory()) {
      const files = await glob('**/*', { cwd: absolute, onlyFiles: true, dot: false, followSymbolicLinks: true, expandDirectories: false });
      if (files.length === 0) throw new UsageError(`The directory ${input} contains no files.`);
      for (const relative of files.sort()) {
        const file = path.join(absolute, relative);
        const fileInfo = await stat(file);
        add(file, relative, fileInfo.size);
      }
      continue;
    }
    if (info) throw new UsageError(`${input} is neither a file nor a directory.`);
    if (!isDynamicPattern(input)) {
      throw new UsageError(`${input}: no such file or directory.`);
    }
    const matches = await glob(input, { cwd: options.cwd, onlyFiles: true, dot: false, absolute: true, expandDirectories: false });
    if (matches.length === 0) throw new UsageError(`The pattern ${input} matches no files.`, 'Quote the pattern so the shell passes it through, and check the path.');
    const base = path.resolve(options.cwd, globBase(input));
    for (const file of matches.sort()) {
      const fileInfo = await stat(file);
      add(path.normalize(file), path.relative(base, file), fileInfo.size);
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Detects each file's type from its first bytes (never its name), a few files at a time. */
export async function sniffEntries(entries: readonly UploadEntry[], concurrency = 8): Promise<SniffedEntry[]> {
  // Loaded here, not at the top: file-type is most of upload's start-up, and the command sends its first request
  // before it sniffs (issue 21).
  const { fileTypeFromFile } = await import('file-type');
  const limit = pLimit(concurrency);
  return Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const type = entry.bytes === 0 ? undefined : await fileTypeFromFile(entry.file);
        const mime = type?.mime;
        const isImage = mime?.startsWith('image/') ?? false;
        return { ...entry, mime, isImage, contentType: mime ?? 'application/octet-stream' };
      }),
    ),
  );
}
