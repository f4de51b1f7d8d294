import { parseColour, type Rgb } from './colour.js';
import { InvalidSettingError } from './errors.js';
import { LAMBDA_MEMORY_ENV, maxPixelsForMemory } from './pixel-limit.js';
import { DEFAULT_SIZE_SPEC, formatSizeSpec, parseSizeSpec, type SizeSpec } from './sizes.js';


export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp', 'avif', 'original'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const FIT_MODES = ['cover', 'contain', 'inside', 'fill'] as const;
export type FitMode = (typeof FIT_MODES)[number];

/** The function's environment variables, named in one place for the function and for `init`. */
export const FUNCTION_ENV = {
  destBucket: 'DEST_BUCKET',
  table: 'TABLE_NAME',
  sourceBucket: 'SOURCE_BUCKET',
  sizes: 'SIZES',
  format: 'OUTPUT_FORMAT',
  fit: 'FIT',
  maxPixels: 'MAX_PIXELS',
  maxBytes: 'MAX_BYTES',
  allowUpscale: 'ALLOW_UPSCALE',
  quality: 'OUTPUT_QUALITY',
  cacheControl: 'CACHE_CONTROL',
  background: 'BACKGROUND',
  notifyTopicArn: 'NOTIFY_TOPIC_ARN',
  keepOnDelete: 'KEEP_ON_DELETE',
  cdnBaseUrl: 'CDN_BASE_URL',
  labels: 'LABELS',
  labelsMinConfidence: 'LABELS_MIN_CONFIDENCE',
  labelsMax: 'LABELS_MAX',
  moderation: 'MODERATION',
  moderationMinConfidence: 'MODERATION_MIN_CONFIDENCE',
} as const;

/**
 * Process tuning the function's environment always carries. glibc gives each thread that allocates its own
 * malloc arena; sharp's pipelines run on libuv's threads, and a warm container's RSS then creeps up image after
 * image (measured: 185 MB after one 5640x3172 JPEG at three sizes, 580 MB after twenty). Two arenas hold it
 * near 290 MB. glibc reads this only at process start, so it has to be a Lambda environment variable.
 */
export const RUNTIME_TUNING_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * The pixel limit where the memory is not known (the CLI's local runs). In Lambda the default follows the
 * function's memory instead (maxPixelsForMemory), since the worst decode (an interlaced RGBA PNG) needs ~9 bytes
 * per pixel.
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;
/**
 * The object is read into memory whole. 64 MiB is above any camera JPEG (a 50 MP JPEG is ~30 MB) and leaves a
 * 1024 MB function over 900 MB for decoding next to the source bytes (the 76 MP its default limit lets through).
 */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Outputs keep their key when the source is uploaded again, so they are not immutable: a day bounds how long a
 * browser or CDN may show the previous version, while still caching thumbnails well.
 */
export const DEFAULT_CACHE_CONTROL = 'public, max-age=86400';
/** What transparent pixels become in a format without alpha (JPEG), and `contain`'s padding there. */
export const DEFAULT_BACKGROUND = 'white';
export const DEFAULT_OUTPUT_FORMAT: OutputFormat = 'png';
export const DEFAULT_FIT: FitMode = 'cover';

/** What the function runs with, validated once per container. */
export interface FunctionSettings {
  destBucket: string;
  table: string;
  /** Set when known; lets the loop guard tell a same-bucket setup from an event out of the destination bucket. */
  sourceBucket: string | undefined;
  sizes: SizeSpec[];
  format: OutputFormat;
  fit: FitMode;
  maxPixels: number;
  maxBytes: number;
  allowUpscale: boolean;
  quality: number | undefined;
  cacheControl: string;
  /** What transparent pixels are flattened onto where the output format has no alpha (JPEG). */
  background: Rgb;
  /** The SNS topic each record's outcome is published to; none, no publishing. */
  notifyTopicArn: string | undefined;
  /** Ignore ObjectRemoved events (the outputs and item of a removed source stay). */
  keepOnDelete: boolean;
  /** The CDN's address (no trailing slash): each output's `Url` is this plus its key. None, no `Url`. */
  cdnBaseUrl: string | undefined;
  /** Rekognition DetectLabels, when on (LABELS=on). */
  labels?: LabelSettings;
  /** Rekognition DetectModerationLabels, when on (MODERATION=on). */
  moderation?: ModerationSettings;
}

export interface LabelSettings {
  /** 0-100: labels Rekognition is less sure of are not returned. */
  minConfidence: number;
  maxLabels: number;
}

export interface ModerationSettings {
  /** 0-100: a moderation label at or over this confidence rejects the image (FAILED, MODERATED). */
  minConfidence: number;
}

/** Rekognition's own default is 55; 70 keeps the labels an app would show without sorting through guesses. */
export const DEFAULT_LABELS_MIN_CONFIDENCE = 70;
export const DEFAULT_LABELS_MAX = 10;
/**
 * Rekognition's own default is 50, which rejects beach photos; 80 rejects only what it is fairly sure of, and
 * an operator who wants stricter sets MODERATION_MIN_CONFIDENCE.
 */
export const DEFAULT_MODERATION_MIN_CONFIDENCE = 80;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the function's settings from its environment.
 * @throws InvalidSettingError naming the variable at fault.
 */
export function loadFunctionSettings(env: Env = process.env): FunctionSettings {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) throw new InvalidSettingError('is not set; the function needs it.', name);
    return value;
  };
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const sizesText = optional(FUNCTION_ENV.sizes) ?? DEFAULT_SIZE_SPEC;
  let sizes: SizeSpec[];
  try {
    sizes = parseSizeSpec(sizesText);
  } catch (error) {
    throw new InvalidSettingError((error as Error).message, FUNCTION_ENV.sizes);
  }
  const quality = optional(FUNCTION_ENV.quality);
  return {
    destBucket: required(FUNCTION_ENV.destBucket),
    table: required(FUNCTION_ENV.table),
    sourceBucket: optional(FUNCTION_ENV.sourceBucket),
    sizes,
    format: choice(FUNCTION_ENV.format, optional(FUNCTION_ENV.format) ?? DEFAULT_OUTPUT_FORMAT, OUTPUT_FORMATS),
    fit: choice(FUNCTION_ENV.fit, optional(FUNCTION_ENV.fit) ?? DEFAULT_FIT, FIT_MODES),
    maxPixels: ruled(FUNCTION_ENV.maxPixels, MAX_PIXELS_RULE, optional(FUNCTION_ENV.maxPixels)) ?? defaultMaxPixels(optional(LAMBDA_MEMORY_ENV)),
    maxBytes: ruled(FUNCTION_ENV.maxBytes, MAX_BYTES_RULE, optional(FUNCTION_ENV.maxBytes)) ?? DEFAULT_MAX_BYTES,
    allowUpscale: ruled(FUNCTION_ENV.allowUpscale, ALLOW_UPSCALE_RULE, optional(FUNCTION_ENV.allowUpscale)) ?? false,
    quality: ruled(FUNCTION_ENV.quality, QUALITY_RULE, quality),
    cacheControl: ruled(FUNCTION_ENV.cacheControl, CACHE_CONTROL_RULE, optional(FUNCTION_ENV.cacheControl)) ?? DEFAULT_CACHE_CONTROL,
    background: ruled(FUNCTION_ENV.background, BACKGROUND_RULE, optional(FUNCTION_ENV.background)) ?? BACKGROUND_RULE.parse(DEFAULT_BACKGROUND),
    notifyTopicArn: topicArn(FUNCTION_ENV.notifyTopicArn, optional(FUNCTION_ENV.notifyTopicArn)),
    keepOnDelete: ruled(FUNCTION_ENV.keepOnDelete, TRUE_FALSE_RULE, optional(FUNCTION_ENV.keepOnDelete)) ?? false,
    cdnBaseUrl: ruled(FUNCTION_ENV.cdnBaseUrl, BASE_URL_RULE, optional(FUNCTION_ENV.cdnBaseUrl)),
    ...contentAnalysisSettings(optional),
  };
}

function topicArn(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // A FIFO topic (name ending in .fifo) would need a message group on every publish; the pipeline's messages
  // are independent, so a standard topic is what it takes.
  if (!/^arn:[\w-]+:sns:[\w-]+:\d{12}:[\w-]{1,256}$/.test(value)) {
    throw new InvalidSettingError(`"${value}" is not the ARN of a standard SNS topic (arn:aws:sns:region:account:name).`, name);
  }
  return value;
}

/** LABELS / MODERATION and their tuning; each section present only when switched on. */
function contentAnalysisSettings(optional: (name: string) => string | undefined): Pick<FunctionSettings, 'labels' | 'moderation'> {
  const result: Pick<FunctionSettings, 'labels' | 'moderation'> = {};
  if (switchSetting(FUNCTION_ENV.labels, optional(FUNCTION_ENV.labels))) {
    result.labels = {
      minConfidence: confidenceSetting(FUNCTION_ENV.labelsMinConfidence, optional(FUNCTION_ENV.labelsMinConfidence), DEFAULT_LABELS_MIN_CONFIDENCE),
      // Rekognition returns at most 1000 labels; the item should stay far below DynamoDB's 400 KB.
      maxLabels: Math.min(1000, positiveInteger(FUNCTION_ENV.labelsMax, optional(FUNCTION_ENV.labelsMax), DEFAULT_LABELS_MAX)),
    };
  }
  if (switchSetting(FUNCTION_ENV.moderation, optional(FUNCTION_ENV.moderation))) {
    result.moderation = {
      minConfidence: confidenceSetting(
        FUNCTION_ENV.moderationMinConfidence,
        optional(FUNCTION_ENV.moderationMinConfidence),
        DEFAULT_MODERATION_MIN_CONFIDENCE,
      ),
    };
  }
  return result;
}

/** on/off switches: on, true, 1, yes; off, false, 0, no; unset is off. */
function switchSetting(name: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(lower)) return true;
  if (['off', 'false', '0', 'no'].includes(lower)) return false;
  throw new InvalidSettingError(`"${value}" is not on or off.`, name);
}

function confidenceSetting(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < 0 || n > 100) {
    throw new InvalidSettingError(`"${value}" is not a confidence from 0 to 100.`, name);
  }
  return n;
}

export interface FunctionEnvironmentInput {
  destBucket: string;
  table: string;
  sourceBucket?: string | undefined;
  sizes?: string | readonly SizeSpec[] | undefined;
  format?: OutputFormat | undefined;
  fit?: FitMode | undefined;
  maxPixels?: number | undefined;
  maxBytes?: number | undefined;
  allowUpscale?: boolean | undefined;
  quality?: number | undefined;
  cacheControl?: string | undefined;
  /** A colour as BACKGROUND_RULE reads it; written as given, so the deployed value reads back the same. */
  background?: string | undefined;
  notifyTopicArn?: string | undefined;
  keepOnDelete?: boolean | undefined;
  labels?: { minConfidence?: number | undefined; maxLabels?: number | undefined } | undefined;
  moderation?: { minConfidence?: number | undefined } | undefined;
  cdnBaseUrl?: string | undefined;
}

/**
 * The function's environment for the given settings: sizes, format and fit always (canonical text, so a
 * comparison with the deployed configuration is exact), the other optional values only when given, and the
 * runtime tuning.
 * @throws InvalidSettingError when a value is invalid, so `init` fails before deploying it.
 */
export function functionEnvironment(input: FunctionEnvironmentInput): Record<string, string> {
  const sizes = typeof input.sizes === 'string' || input.sizes === undefined ? parseSizeSpec(input.sizes ?? DEFAULT_SIZE_SPEC) : [...input.sizes];
  const env: Record<string, string> = {
    [FUNCTION_ENV.destBucket]: input.destBucket,
    [FUNCTION_ENV.table]: input.table,
  };
  if (input.sourceBucket !== undefined) env[FUNCTION_ENV.sourceBucket] = input.sourceBucket;
  env[FUNCTION_ENV.sizes] = formatSizeSpec(sizes);
  env[FUNCTION_ENV.format] = input.format ?? DEFAULT_OUTPUT_FORMAT;
  env[FUNCTION_ENV.fit] = input.fit ?? DEFAULT_FIT;
  if (input.maxPixels !== undefined) env[FUNCTION_ENV.maxPixels] = String(input.maxPixels);
  if (input.maxBytes !== undefined) env[FUNCTION_ENV.maxBytes] = String(input.maxBytes);
  if (input.allowUpscale !== undefined) env[FUNCTION_ENV.allowUpscale] = String(input.allowUpscale);
  if (input.quality !== undefined) env[FUNCTION_ENV.quality] = String(input.quality);
  if (input.cacheControl !== undefined) env[FUNCTION_ENV.cacheControl] = input.cacheControl;
  if (input.background !== undefined) env[FUNCTION_ENV.background] = input.background;
  if (input.notifyTopicArn !== undefined) env[FUNCTION_ENV.notifyTopicArn] = input.notifyTopicArn;
  if (input.keepOnDelete !== undefined) env[FUNCTION_ENV.keepOnDelete] = String(input.keepOnDelete);
  if (input.labels) {
    env[FUNCTION_ENV.labels] = 'on';
    if (input.labels.minConfidence !== undefined) env[FUNCTION_ENV.labelsMinConfidence] = String(input.labels.minConfidence);
    if (input.labels.maxLabels !== undefined) env[FUNCTION_ENV.labelsMax] = String(input.labels.maxLabels);
  }
  if (input.moderation) {
    env[FUNCTION_ENV.moderation] = 'on';
    if (input.moderation.minConfidence !== undefined) env[FUNCTION_ENV.moderationMinConfidence] = String(input.moderation.minConfidence);
  }
  if (input.cdnBaseUrl !== undefined) env[FUNCTION_ENV.cdnBaseUrl] = input.cdnBaseUrl;
  loadFunctionSettings(env);
  return { ...env, ...RUNTIME_TUNING_ENV };
}

/** The default pixel limit: what the function's memory holds when Lambda says how much it has. */
export function defaultMaxPixels(memoryMb: string | undefined): number {
  const mb = memoryMb === undefined ? NaN : Number(memoryMb);
  return Number.isFinite(mb) && mb > 0 ? maxPixelsForMemory(mb) : DEFAULT_MAX_PIXELS;
}

function choice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  const lower = value.toLowerCase();
  if (!(choices as readonly string[]).includes(lower)) {
    throw new InvalidSettingError(`"${value}" is not one of ${choices.join(', ')}.`, name);
  }
  return lower as T;
}

// ---------------------------------------------------------------------------------------------------
// The rules of the settings an operator tunes. The function reads its environment with them, and the CLI checks
// its flags, IMG_RESIZER_* variables and settings file with the same objects (src/config/setting-rules.ts), so
// both accept exactly the same values and state the same range.

/** One setting's rule: what a valid value is (one phrase, used in every message) and how its text is read. */
export interface SettingRule<T> {
  /** E.g. "a whole number from 1 to 100". */
  readonly expected: string;
  /** @throws InvalidSettingError `"<text>" is not <expected>.` (the caller adds which variable, flag or key). */
  parse(text: string): T;
}

export function settingRule<T>(expected: string, read: (text: string) => T | undefined): SettingRule<T> {
  return {
    expected,
    parse(text: string): T {
      const value = read(text.trim());
      if (value === undefined) throw new InvalidSettingError(`"${text}" is not ${expected}.`);
      return value;
    },
  };
}

/** A whole number from `min` to `max` (written without sign, decimals or exponent). */
export function wholeNumberRule(min: number, max: number = Number.MAX_SAFE_INTEGER, unit = ''): SettingRule<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `a whole number${unit}, ${min} or more` : `a whole number${unit} from ${min} to ${max}`;
  return settingRule(range, (text) => {
    const n = Number(text);
    return /^\d+$/.test(text) && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

/** true, 1, yes / false, 0, no, any case. */
const TRUE_FALSE_RULE = settingRule('true or false', (text) => {
  const lower = text.toLowerCase();
  return ['true', '1', 'yes'].includes(lower) ? true : ['false', '0', 'no'].includes(lower) ? false : undefined;
});

/** OUTPUT_QUALITY: the encoder's quality for jpeg, webp and avif (PNG is lossless and ignores it). */
export const QUALITY_RULE = wholeNumberRule(1, 100);
/** MAX_PIXELS: width x height accepted, checked before decoding. */
export const MAX_PIXELS_RULE = wholeNumberRule(1);
/** MAX_BYTES: the largest source object read (it is read into memory whole). */
export const MAX_BYTES_RULE = wholeNumberRule(1, Number.MAX_SAFE_INTEGER, ' of bytes');
/** ALLOW_UPSCALE: enlarge images smaller than their box. */
export const ALLOW_UPSCALE_RULE = TRUE_FALSE_RULE;
/** CACHE_CONTROL: one header line; S3 refuses line breaks, and a long one is a mistake. */
export const CACHE_CONTROL_RULE = settingRule('one line of at most 256 characters', (text) => (text !== '' && text.length <= 256 && !/[\r\n]/.test(text) ? text : undefined));
/** BACKGROUND: a CSS colour name or #rgb / #rrggbb. */
export const BACKGROUND_RULE = settingRule('a colour: a CSS name such as white or black, or #rgb or #rrggbb', parseColour);

/**
 * CDN_BASE_URL (the function and the API handler) and API_BASE_URL: an origin, optionally with a path, no query,
 * fragment or credentials; trailing slashes are dropped. https, except plain http for the local stack's hosts
 * (localhost, *.localhost, 127.x.x.x, [::1]): the local CloudFront emulator serves http://<id>.cloudfront.localhost:<port>.
 * An http URL anywhere else would hand out links that can be tampered with on the way.
 */
export const BASE_URL_RULE = settingRule('an https URL such as https://d111.cloudfront.net, without query or fragment (http only for localhost, *.localhost or loopback)', (text) => {
  if (!/^https?:\/\/[^/\s?#@]+(\/[^\s?#]*)?$/i.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalHost(url.hostname))) return undefined;
  return text.replace(/\/+$/, '');
});

/** Hosts that only ever reach this machine: where plain http is acceptable. */
function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A rule applied to a variable that is set, naming it in the error. */
export function namedRule<T>(name: string, rule: SettingRule<T>, value: string): T {
  try {
    return rule.parse(value);
  } catch (error) {
    throw new InvalidSettingError((error as Error).message, name);
  }
}

/** A rule applied to an optional variable, naming it in the error. */
function ruled<T>(name: string, rule: SettingRule<T>, value: string | undefined): T | undefined {
  return value === undefined ? undefined : namedRule(name, rule, value);
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidSettingError(`"${value}" is not a positive whole number.`, name);
  }
  return n;
}
