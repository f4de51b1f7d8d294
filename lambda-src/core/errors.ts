/**
 * Errors of the function's core. They carry stable upper-case codes because the codes end up in metadata items
 * and logs that operators filter on; messages are for people.
 */

/** Codes of permanent image failures, as recorded in a FAILED item's ErrorCode. */
export const IMAGE_ERROR_CODES = [
  'UNSUPPORTED_FORMAT',
  'CORRUPT_IMAGE',
  'TOO_MANY_PIXELS',
  'TOO_LARGE',
  'NOT_FOUND',
  'EMPTY_OBJECT',
  // Not the image's fault, but recorded so an operator sees it: the function may not read the object (a
  // missing grant, a KMS key it may not use). The invocation still fails, so Lambda retries it.
  'ACCESS_DENIED',
  // Rekognition's moderation labels rejected the image (MODERATION=on); no output is kept.
  'MODERATED',
] as const;
export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number];

/**
 * A permanent problem with one source image: retrying cannot help, so the function records a FAILED item and
 * does not throw (Lambda would otherwise retry the event twice for nothing).
 */
export class ImageError extends Error {
  readonly code: ImageErrorCode;
  /** What was learnt about the source before the failure (recorded on the FAILED item). */
  readonly source: ImageErrorSource;

  constructor(code: ImageErrorCode, message: string, options: { cause?: unknown; source?: ImageErrorSource } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImageError';
    this.code = code;
    this.source = options.source ?? {};
  }
}

export interface ImageErrorSource {
  format?: string;
  /** After EXIF orientation. */
  width?: number;
  height?: number;
}

/** A bad setting (environment variable, size spec, flag value); `variable` names it when known. */
export class InvalidSettingError extends Error {
  readonly variable: string | undefined;

  constructor(message: string, variable?: string) {
    super(variable === undefined ? message : `${variable}: ${message}`);
    this.name = 'InvalidSettingError';
    this.variable = variable;
  }
}
