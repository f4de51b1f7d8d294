import { badRequest } from './errors.js';

/**
 * Splits a raw (still percent-encoded) request path into decoded segments, refusing what could make a key
 * escape its prefix or mean two things: `.` and `..` segments, empty segments, encoded slashes or backslashes
 * (a `%2F` inside a segment would become a separator in the key), backslashes, NUL and other control
 * characters, and malformed percent-encoding. Works on the raw path because a decoded one has already lost the
 * difference between `/` and `%2F`.
 * @throws ApiError 400 INVALID_KEY
 */
export function pathSegments(rawPath: string): string[] {
  const trimmed = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (trimmed === '') return [];
  return trimmed.split('/').map((raw) => {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw badRequest('INVALID_KEY', 'The path has malformed percent-encoding.');
    }
    if (segment === '') throw badRequest('INVALID_KEY', 'The path has an empty segment ("//" or a trailing "/").');
    if (segment === '.' || segment === '..') throw badRequest('INVALID_KEY', 'The path has a "." or ".." segment; keys may not leave their prefix.');
    if (segment.includes('/')) throw badRequest('INVALID_KEY', 'The path has an encoded slash (%2F); use plain "/" between segments.');
    if (segment.includes('\\')) throw badRequest('INVALID_KEY', 'The path has a backslash; keys may not contain one.');
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\u0000-\u001f\u007f]/.test(segment)) throw badRequest('INVALID_KEY', 'The path has a control character (NUL, newline, ...).');
    return segment;
  });
}

/** Encodes a key for a URL path: each segment percent-encoded, the slashes kept. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Whether a path segment names a preset rather than ends a key: preset names have no dot, file names do. */
export function looksLikePreset(segment: string): boolean {
  return /^[a-z0-9_-]{1,64}$/.test(segment);
}
