import { badRequest } from './errors.js';
import type { ApiSettings } from './settings.js';

/** Content types an upload may declare, with the extension its key gets: the formats the image core reads. */
export const UPLOAD_CONTENT_TYPES: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'image/tiff': 'tif',
};

export interface UploadRequest {
  /** The file name's stem, reduced to safe characters (it becomes part of the key). */
  stem: string;
  contentType: string;
  bytes: number;
  prefix: string;
}

const MAX_BODY_CHARS = 4096;

/**
 * Validates `POST /uploads`' body: `{filename, contentType, bytes, prefix?}`.
 * @throws ApiError 400 (INVALID_BODY, UNSUPPORTED_TYPE, TOO_LARGE, INVALID_PREFIX)
 */
export function validateUpload(body: string | undefined, settings: ApiSettings): UploadRequest {
  if (body === undefined || body.trim() === '') throw badRequest('INVALID_BODY', 'Send a JSON body: {"filename", "contentType", "bytes"}.');
  if (body.length > MAX_BODY_CHARS) throw badRequest('INVALID_BODY', `The body is over ${MAX_BODY_CHARS} characters; it describes a file, it is not the file.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw badRequest('INVALID_BODY', 'The body is not JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('INVALID_BODY', 'The body must be a JSON object.');
  const { filename, contentType, bytes, prefix } = parsed as Record<string, unknown>;
  if (typeof filename !== 'string' || filename.trim() === '' || filename.length > 255) {
    throw badRequest('INVALID_BODY', '"filename" must be a non-empty string of at most 255 characters.');
  }
  if (typeof contentType !== 'string') throw badRequest('INVALID_BODY', '"contentType" must be a string such as image/jpeg.');
  const type = contentType.trim().toLowerCase();
  if (UPLOAD_CONTENT_TYPES[type] === undefined) {
    throw badRequest('UNSUPPORTED_TYPE', `"${contentType}" is not an image type the pipeline reads; use one of ${Object.keys(UPLOAD_CONTENT_TYPES).join(', ')}.`);
  }
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw badRequest('INVALID_BODY', '"bytes" must be the file size, a whole number from 1.');
  const max = settings.function.maxBytes;
  if (bytes > max) throw badRequest('TOO_LARGE', `The file has ${bytes} bytes; the limit is ${max}.`);
  let chosen = settings.uploadPrefix;
  if (prefix !== undefined) {
    const asked = typeof prefix === 'string' ? (prefix.endsWith('/') ? prefix : `${prefix}/`) : undefined;
    if (asked === undefined || !settings.uploadPrefixes.includes(asked)) {
      throw badRequest('INVALID_PREFIX', `"prefix" must be one of ${settings.uploadPrefixes.join(', ')}.`);
    }
    chosen = asked;
  }
  return { stem: safeStem(filename), contentType: type, bytes, prefix: chosen };
}

/**
 * The file name's stem, as a key part: the last path component, its extension dropped (the content type gives
 * the key's), accents dropped, runs of anything but letters, digits, `_` and `-` as one `-`, at most 64 characters.
 */
export function safeStem(filename: string): string {
  const base = filename.split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const safe = stem.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return safe === '' ? 'image' : safe;
}

/** `{prefix}{stem}-{unique}.{ext}`: a fresh key per upload, so two uploads never overwrite each other. */
export function uploadKey(upload: UploadRequest, unique: string): string {
  return `${upload.prefix}${upload.stem}-${unique}.${UPLOAD_CONTENT_TYPES[upload.contentType] ?? 'img'}`;
}
