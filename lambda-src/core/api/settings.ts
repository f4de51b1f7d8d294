import { InvalidSettingError } from '../errors.js';
import { BASE_URL_RULE, loadFunctionSettings, namedRule, type FunctionSettings } from '../settings.js';
import { parsePresets, type Preset } from './presets.js';

/** The API handler's environment variables beyond the function's own (FUNCTION_ENV), named in one place. */
export const API_ENV = {
  presets: 'PRESETS',
  uploadPrefix: 'UPLOAD_PREFIX',
  uploadPrefixes: 'UPLOAD_PREFIXES',
  cdnBaseUrl: 'CDN_BASE_URL',
  uploadExpiry: 'UPLOAD_URL_EXPIRY_SECONDS',
  readExpiry: 'READ_URL_EXPIRY_SECONDS',
  renderWait: 'RENDER_WAIT_MS',
  baseUrl: 'API_BASE_URL',
} as const;

export const DEFAULT_UPLOAD_PREFIX = 'uploads/';
/** Long enough to start an upload from a phone, short enough that a leaked form is soon useless. */
export const DEFAULT_UPLOAD_EXPIRY_SECONDS = 300;
/** Output URLs in a status response or a redirect; a client that keeps one longer asks again. */
export const DEFAULT_READ_EXPIRY_SECONDS = 3600;
/**
 * How long a request for a preset another request is rendering waits for it, before answering 503 with
 * Retry-After. Well under API Gateway's 30 s integration timeout; one photo renders in about a second.
 */
export const DEFAULT_RENDER_WAIT_MS = 10_000;
/** A render lock older than this is taken over: its holder crashed or timed out. */
export const RENDER_LOCK_MS = 60_000;

export interface ApiSettings {
  function: FunctionSettings;
  /** Where uploads land; the API needs it (it is optional for the function). */
  sourceBucket: string;
  /** The presets, the function's sizes first. */
  presets: Preset[];
  /** The default upload prefix, and the others a client may choose; each ends in "/". */
  uploadPrefix: string;
  uploadPrefixes: string[];
  /** Output URLs are this base plus the key when set (a CDN in front of the destination bucket). */
  cdnBaseUrl: string | undefined;
  uploadExpirySeconds: number;
  readExpirySeconds: number;
  renderWaitMs: number;
  /** The API's own base URL (a custom domain); by default taken from each request. */
  baseUrl: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the API handler's settings: the function's (same variables, same image core) and its own.
 * @throws InvalidSettingError naming the variable at fault.
 */
export function loadApiSettings(env: Env = process.env): ApiSettings {
  const fn = loadFunctionSettings(env);
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  if (fn.sourceBucket === undefined) throw new InvalidSettingError('is not set; the API hands out uploads to this bucket.', 'SOURCE_BUCKET');
  const uploadPrefix = prefix(API_ENV.uploadPrefix, optional(API_ENV.uploadPrefix) ?? DEFAULT_UPLOAD_PREFIX);
  const others = (optional(API_ENV.uploadPrefixes) ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  const uploadPrefixes = [...new Set([uploadPrefix, ...others.map((p) => prefix(API_ENV.uploadPrefixes, p))])];
  const baseUrl = optional(API_ENV.baseUrl);
  return {
    function: fn,
    sourceBucket: fn.sourceBucket,
    presets: parsePresets(optional(API_ENV.presets), fn.sizes, API_ENV.presets),
    uploadPrefix,
    uploadPrefixes,
    // The function's own reading of CDN_BASE_URL (BASE_URL_RULE), so both handlers take one value the same way.
    cdnBaseUrl: fn.cdnBaseUrl,
    uploadExpirySeconds: bounded(API_ENV.uploadExpiry, optional(API_ENV.uploadExpiry), DEFAULT_UPLOAD_EXPIRY_SECONDS, 1, 3600),
    readExpirySeconds: bounded(API_ENV.readExpiry, optional(API_ENV.readExpiry), DEFAULT_READ_EXPIRY_SECONDS, 1, 7 * 24 * 3600),
    renderWaitMs: bounded(API_ENV.renderWait, optional(API_ENV.renderWait), DEFAULT_RENDER_WAIT_MS, 0, 25_000),
    baseUrl: baseUrl === undefined ? undefined : namedRule(API_ENV.baseUrl, BASE_URL_RULE, baseUrl),
  };
}

/**
 * An upload prefix: path segments of letters, digits, `_`, `-` and `.` (never `.` or `..` alone), ending in "/".
 * It becomes the start of object keys, and the function's output prefixes are not allowed (a loop).
 */
function prefix(name: string, value: string): string {
  const withSlash = value.endsWith('/') ? value : `${value}/`;
  const segments = withSlash.slice(0, -1).split('/');
  if (segments.some((segment) => !/^[A-Za-z0-9_.-]{1,100}$/.test(segment) || segment === '.' || segment === '..')) {
    throw new InvalidSettingError(`"${value}" is not an upload prefix; use segments of letters, digits, "_", "-" and ".", such as uploads/.`, name);
  }
  if (withSlash.startsWith('resized/') || withSlash.startsWith('resized-')) {
    throw new InvalidSettingError(`"${value}" is where the function writes its outputs; choose another upload prefix.`, name);
  }
  return withSlash;
}

function bounded(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidSettingError(`"${value}" is not a whole number from ${min} to ${max}.`, name);
  return n;
}

export interface ApiEnvironmentInput {
  presets?: string | undefined;
  uploadPrefix?: string | undefined;
  uploadPrefixes?: readonly string[] | undefined;
  cdnBaseUrl?: string | undefined;
  uploadExpirySeconds?: number | undefined;
  readExpirySeconds?: number | undefined;
  renderWaitMs?: number | undefined;
  baseUrl?: string | undefined;
}

/**
 * The API function's environment (for `init --api`): the pipeline function's environment plus the API's own
 * variables, only those given. Validated as the handler will read it, so `init` fails before deploying a bad one.
 * @throws InvalidSettingError naming the variable at fault.
 */
export function apiEnvironment(functionEnv: Readonly<Record<string, string>>, input: ApiEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = { ...functionEnv };
  const set = (name: string, value: string | number | undefined): void => {
    if (value !== undefined) env[name] = String(value);
  };
  set(API_ENV.presets, input.presets);
  set(API_ENV.uploadPrefix, input.uploadPrefix);
  set(API_ENV.uploadPrefixes, input.uploadPrefixes === undefined ? undefined : input.uploadPrefixes.join(','));
  set(API_ENV.cdnBaseUrl, input.cdnBaseUrl);
  set(API_ENV.uploadExpiry, input.uploadExpirySeconds);
  set(API_ENV.readExpiry, input.readExpirySeconds);
  set(API_ENV.renderWait, input.renderWaitMs);
  set(API_ENV.baseUrl, input.baseUrl);
  loadApiSettings(env);
  return env;
}
