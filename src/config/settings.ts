import { UsageError, errorMessage } from '../errors.js';
import { parseSizeSpec, formatSizeSpec, DEFAULT_SIZE_SPEC } from '../../lambda-src/core/sizes.js';
import type { Prompter } from './prompter.js';
import {
  DEFAULT_CDN_PRICE_CLASS,
  DEFAULT_MEMORY_MB,
  DEFAULT_STACK_NAME,
  DEFAULT_TIMEOUT_S,
  derivedNames,
  OPERATIONAL_DEFAULTS,
  PRE_SETTING_RUNTIME,
  type StackSettings,
} from './stack-settings.js';
import { bucketNameProblem, sizeSpecProblem, SIZES_SUGGESTION, validateSettings, validateStackName } from './validation.js';
import { parsePresets } from '../../lambda-src/core/api/presets.js';
import { OUTPUT_FORMATS, type OutputFormat, type FitMode } from '../../lambda-src/core/settings.js';
import { parseNotifyList } from './notify-targets.js';
import { parseSetting, type RuledSetting } from './setting-rules.js';
import { defaultRuntime, isLambdaRuntime, LAMBDA_RUNTIMES, type LambdaRuntime } from '../runtimes.js';

// The function's own lists, so the CLI accepts exactly what the function does.
export { OUTPUT_FORMATS };
/** @public Kept importable from here for the provisioning half, which may still use them. */
export type { OutputFormat, FitMode };

// The settings module is split by job (architecture pass); every name stays importable from here.
export * from './stack-settings.js';
export * from './settings-file.js';
export * from './prompter.js';
export * from './validation.js';
export * from './setting-rules.js';

export type { Architecture } from '../constants.js';

// ---------------------------------------------------------------------------------------------------
// Resolution for `init`: flags, then environment, then the settings file, then prompts, then defaults.

/** The environment variables `init` reads, one per setting (documented in the README). */
export const SETTINGS_ENV = {
  stackName: 'IMG_RESIZER_STACK_NAME',
  sourceBucket: 'IMG_RESIZER_SOURCE_BUCKET',
  destBucket: 'IMG_RESIZER_DEST_BUCKET',
  table: 'IMG_RESIZER_TABLE',
  functionName: 'IMG_RESIZER_FUNCTION_NAME',
  roleName: 'IMG_RESIZER_ROLE_NAME',
  layerName: 'IMG_RESIZER_LAYER_NAME',
  sizes: 'IMG_RESIZER_SIZES',
  format: 'IMG_RESIZER_FORMAT',
  fit: 'IMG_RESIZER_FIT',
  arch: 'IMG_RESIZER_ARCH',
  memory: 'IMG_RESIZER_MEMORY',
  timeout: 'IMG_RESIZER_TIMEOUT',
  prefix: 'IMG_RESIZER_TRIGGER_PREFIX',
  suffix: 'IMG_RESIZER_TRIGGER_SUFFIX',
  notifications: 'IMG_RESIZER_NOTIFICATIONS',
  logRetentionDays: 'IMG_RESIZER_LOG_RETENTION',
  pointInTimeRecovery: 'IMG_RESIZER_PITR',
  retryAttempts: 'IMG_RESIZER_RETRY_ATTEMPTS',
  maxEventAgeSeconds: 'IMG_RESIZER_MAX_EVENT_AGE',
  keepOnDelete: 'IMG_RESIZER_KEEP_ON_DELETE',
  notify: 'IMG_RESIZER_NOTIFY',
  allowLockPublicBucket: 'IMG_RESIZER_ALLOW_LOCK_PUBLIC_BUCKET',
  labels: 'IMG_RESIZER_LABELS',
  labelsMinConfidence: 'IMG_RESIZER_LABELS_MIN_CONFIDENCE',
  labelsMax: 'IMG_RESIZER_LABELS_MAX',
  moderation: 'IMG_RESIZER_MODERATION',
  moderationMinConfidence: 'IMG_RESIZER_MODERATION_MIN_CONFIDENCE',
  api: 'IMG_RESIZER_API',
  apiPresets: 'IMG_RESIZER_API_PRESETS',
  apiJwtIssuer: 'IMG_RESIZER_API_JWT_ISSUER',
  apiJwtAudience: 'IMG_RESIZER_API_JWT_AUDIENCE',
  apiPublicReads: 'IMG_RESIZER_API_PUBLIC_READS',
  apiCorsOrigin: 'IMG_RESIZER_API_CORS_ORIGIN',
  apiThrottleRate: 'IMG_RESIZER_API_THROTTLE_RATE',
  apiThrottleBurst: 'IMG_RESIZER_API_THROTTLE_BURST',
  cdn: 'IMG_RESIZER_CDN',
  cdnPriceClass: 'IMG_RESIZER_CDN_PRICE_CLASS',
  cdnAliases: 'IMG_RESIZER_CDN_ALIASES',
  cdnCertificateArn: 'IMG_RESIZER_CDN_CERTIFICATE_ARN',
  cacheControl: 'IMG_RESIZER_CACHE_CONTROL',
  quality: 'IMG_RESIZER_QUALITY',
  allowUpscale: 'IMG_RESIZER_ALLOW_UPSCALE',
  maxPixels: 'IMG_RESIZER_MAX_PIXELS',
  maxBytes: 'IMG_RESIZER_MAX_BYTES',
  background: 'IMG_RESIZER_BACKGROUND',
  backfillQueue: 'IMG_RESIZER_BACKFILL_QUEUE',
  queueMaxConcurrency: 'IMG_RESIZER_QUEUE_MAX_CONCURRENCY',
  runtime: 'IMG_RESIZER_RUNTIME',
  orchestration: 'IMG_RESIZER_ORCHESTRATION',
  stateMachineType: 'IMG_RESIZER_STATE_MACHINE_TYPE',
} as const satisfies Record<Exclude<keyof StackSettings, 'region' | 'location'>, string>;

/** Settings given on the command line; undefined means "not given". */
export type SettingsFlags = { [K in keyof typeof SETTINGS_ENV]?: StackSettings[K] | undefined };

export interface ResolveInput {
  flags: SettingsFlags;
  env?: NodeJS.ProcessEnv | undefined;
  file: Partial<StackSettings> | undefined;
  /**
   * The account and region in use (default bucket names embed them, since bucket names are global). Called
   * only after every value given by flag, environment or file has been validated, so a typo fails before
   * any AWS call.
   */
  locate: () => Promise<{ account: string; region: string }>;
  /** Undefined: never prompt (no terminal, or --yes). */
  prompter?: Prompter | undefined;
}

/** Where each resolved value came from, for the operator and for tests. */
export type SettingsSources = Partial<Record<keyof StackSettings, 'flag' | 'env' | 'file' | 'prompt' | 'default'>>;

export interface ResolvedSettings {
  settings: StackSettings;
  sources: SettingsSources;
}

/** Bucket names are global across all accounts, so the defaults carry the account and region. */
export function defaultBucketNames(stackName: string, account: string, region: string): { sourceBucket: string; destBucket: string } {
  const suffix = [account, region].filter(Boolean).join('-');
  return { sourceBucket: `${stackName}-source-${suffix}`, destBucket: `${stackName}-dest-${suffix}` };
}

export async function resolveInitSettings(input: ResolveInput): Promise<ResolvedSettings> {
  const env = input.env ?? process.env;
  const file = input.file ?? {};
  const sources: SettingsSources = {};

  /** The first of flag, env, file that has a value; undefined if none does. */
  const given = <K extends keyof typeof SETTINGS_ENV>(key: K, parse: (raw: string) => StackSettings[K]): StackSettings[K] | undefined => {
    const flag = input.flags[key];
    if (flag !== undefined) {
      sources[key] = 'flag';
      return flag;
    }
    const raw = env[SETTINGS_ENV[key]];
    if (raw !== undefined && raw !== '') {
      sources[key] = 'env';
      try {
        return parse(raw);
      } catch (error) {
        throw new UsageError(`${SETTINGS_ENV[key]}: ${errorMessage(error)}`);
      }
    }
    // A hand-edited file may hold null; treat it as absent.
    const fromFile = (file as Record<string, unknown>)[key];
    if (fromFile !== undefined && fromFile !== null) {
      sources[key] = 'file';
      return fromFile as StackSettings[K];
    }
    return undefined;
  };

  const asString = (raw: string): string => raw;
  const stackName = given('stackName', asString) ?? ((sources.stackName = 'default'), DEFAULT_STACK_NAME);
  validateStackName(stackName);
  const names = derivedNames(stackName);
  for (const key of ['sourceBucket', 'destBucket'] as const) {
    const value = given(key, asString);
    const problem = value === undefined ? undefined : bucketNameProblem(value);
    if (value !== undefined && problem) throw new UsageError(`Bucket name "${value}" ${problem}.`, `Give a valid one with --${key === 'sourceBucket' ? 'source' : 'dest'}-bucket.`);
  }
  // Before locate: the local stack runs the functions on this runtime's Node, and a typo fails before any AWS call.
  const { runtime, source: runtimeSource } = resolveRuntime(input.flags.runtime, env, input.file);
  sources.runtime = runtimeSource;
  const givenSizes = given('sizes', asString);
  const sizesProblem = givenSizes === undefined ? undefined : sizeSpecProblem(givenSizes);
  if (givenSizes !== undefined && sizesProblem) throw new UsageError(`Sizes "${givenSizes}": ${sizesProblem}`, SIZES_SUGGESTION);
  const { account, region } = await input.locate();
  const buckets = defaultBucketNames(stackName, account, region);
  const { prompter } = input;

  const ask = async (
    key: 'sourceBucket' | 'destBucket' | 'sizes',
    message: string,
    fallback: string,
    validate: (value: string) => string | undefined,
  ): Promise<string> => {
    const value = given(key, asString);
    if (value !== undefined) return value;
    if (!prompter) {
      sources[key] = 'default';
      return fallback;
    }
    sources[key] = 'prompt';
    return prompter.input(message, fallback, (v) => validate(v.trim()) ?? true).then((v) => v.trim());
  };

  const sourceBucket = await ask('sourceBucket', 'Source bucket (uploads go here)', buckets.sourceBucket, bucketNameProblem);
  const destBucket = await ask('destBucket', 'Destination bucket (resized images go here)', buckets.destBucket, bucketNameProblem);
  const sizes = await ask('sizes', 'Sizes (name=WxH, comma-separated)', DEFAULT_SIZE_SPEC, sizeSpecProblem);
  let format = given('format', rule('format'));
  if (format === undefined) {
    if (prompter) {
      sources.format = 'prompt';
      format = await prompter.select('Output format', OUTPUT_FORMATS, 'png');
    } else {
      sources.format = 'default';
      format = 'png';
    }
  }

  const orDefault = <K extends keyof typeof SETTINGS_ENV>(key: K, parse: (raw: string) => StackSettings[K], fallback: StackSettings[K]): StackSettings[K] => {
    const value = given(key, parse);
    if (value !== undefined) return value;
    sources[key] = 'default';
    return fallback;
  };

  const settings: StackSettings = {
    stackName,
    region,
    sourceBucket,
    destBucket,
    table: orDefault('table', asString, names.table),
    functionName: orDefault('functionName', asString, names.functionName),
    roleName: orDefault('roleName', asString, derivedNames(stackName, region).roleName),
    layerName: orDefault('layerName', asString, names.layerName),
    sizes,
    format,
    fit: orDefault('fit', rule('fit'), 'cover'),
    arch: orDefault('arch', rule('arch'), 'x86_64'),
    memory: orDefault('memory', rule('memory'), DEFAULT_MEMORY_MB),
    timeout: orDefault('timeout', rule('timeout'), DEFAULT_TIMEOUT_S),
    prefix: emptyToUndefined(given('prefix', asString)),
    suffix: emptyToUndefined(given('suffix', asString)),
    notifications: orDefault('notifications', rule('notifications'), OPERATIONAL_DEFAULTS.notifications),
    logRetentionDays: orDefault('logRetentionDays', rule('logRetentionDays'), OPERATIONAL_DEFAULTS.logRetentionDays),
    pointInTimeRecovery: orDefault('pointInTimeRecovery', rule('pointInTimeRecovery'), OPERATIONAL_DEFAULTS.pointInTimeRecovery),
    retryAttempts: orDefault('retryAttempts', rule('retryAttempts'), OPERATIONAL_DEFAULTS.retryAttempts),
    maxEventAgeSeconds: orDefault('maxEventAgeSeconds', rule('maxEventAgeSeconds'), OPERATIONAL_DEFAULTS.maxEventAgeSeconds),
    keepOnDelete: orDefault('keepOnDelete', rule('keepOnDelete'), OPERATIONAL_DEFAULTS.keepOnDelete),
    notify: orDefault('notify', parseNotifyList, []),
    allowLockPublicBucket: orDefault('allowLockPublicBucket', rule('allowLockPublicBucket'), false),
    ...apiSettings(given, asString),
    ...(await resolveDeliverySettings(given, prompter, sources)),
    runtime,
    orchestration: orDefault('orchestration', rule('orchestration'), 'direct'),
    stateMachineType: orDefault('stateMachineType', rule('stateMachineType'), 'express'),
  };
  // Content analysis (issue 16): each key only when on or given, so settings files of stacks without it stay as they were.
  const labels = given('labels', rule('labels'));
  if (labels) settings.labels = true;
  const labelsMinConfidence = given('labelsMinConfidence', rule('labelsMinConfidence'));
  if (labelsMinConfidence !== undefined) settings.labelsMinConfidence = labelsMinConfidence;
  const labelsMax = given('labelsMax', rule('labelsMax'));
  if (labelsMax !== undefined) settings.labelsMax = labelsMax;
  const moderation = given('moderation', rule('moderation'));
  if (moderation) settings.moderation = true;
  const moderationMinConfidence = given('moderationMinConfidence', rule('moderationMinConfidence'));
  if (moderationMinConfidence !== undefined) settings.moderationMinConfidence = moderationMinConfidence;
  Object.assign(settings, outputTuning(given));
  // The backfill queue (issue 18): recorded only when given, so settings files of stacks without it stay as they were.
  const backfillQueue = given('backfillQueue', rule('backfillQueue'));
  if (backfillQueue !== undefined) settings.backfillQueue = backfillQueue;
  const queueMaxConcurrency = given('queueMaxConcurrency', rule('queueMaxConcurrency'));
  if (queueMaxConcurrency !== undefined) settings.queueMaxConcurrency = queueMaxConcurrency;
  sources.region = 'default';
  validateSettings(settings);
  if (settings.apiPresets !== undefined) {
    try {
      parsePresets(settings.apiPresets, parseSizeSpec(settings.sizes), 'presets');
    } catch (error) {
      throw new UsageError(`Presets "${settings.apiPresets}": ${errorMessage(error)}`, 'Give each --preset as name=WxH or name=WxH:format, e.g. card=600x400:webp.');
    }
  }
  // Canonical text, so the settings file and the function's SIZES variable always agree.
  settings.sizes = formatSizeSpec(parseSizeSpec(settings.sizes));
  return { settings, sources };
}

/**
 * The function's output tuning (issue 11: OUTPUT_QUALITY, ALLOW_UPSCALE, MAX_PIXELS, MAX_BYTES, BACKGROUND): only
 * those given are set, so the function keeps its own defaults and existing settings files stay as they were.
 */
function outputTuning(
  given: <K extends keyof typeof SETTINGS_ENV>(key: K, parse: (raw: string) => StackSettings[K]) => StackSettings[K] | undefined,
): Partial<StackSettings> {
  const out: Partial<StackSettings> = {};
  const quality = given('quality', rule('quality'));
  if (quality !== undefined) out.quality = quality;
  const allowUpscale = given('allowUpscale', rule('allowUpscale'));
  if (allowUpscale !== undefined) out.allowUpscale = allowUpscale;
  const maxPixels = given('maxPixels', rule('maxPixels'));
  if (maxPixels !== undefined) out.maxPixels = maxPixels;
  const maxBytes = given('maxBytes', rule('maxBytes'));
  if (maxBytes !== undefined) out.maxBytes = maxBytes;
  const background = emptyToUndefined(given('background', rule('background')));
  if (background !== undefined) out.background = background;
  return out;
}

/** The parser of a setting's text (an IMG_RESIZER_* value), from its one rule. */
function rule<K extends RuledSetting>(key: K): (raw: string) => NonNullable<StackSettings[K]> {
  return (raw) => parseSetting(key, raw);
}

/** The HTTP API's settings (issue 14); only those given are set, so settings files without an API stay as they were. */
function apiSettings(
  given: <K extends keyof typeof SETTINGS_ENV>(key: K, parse: (raw: string) => StackSettings[K]) => StackSettings[K] | undefined,
  asString: (raw: string) => string,
): Partial<StackSettings> {
  const out: Partial<StackSettings> = {};
  const api = given('api', rule('api'));
  const keys = {
    apiPresets: given('apiPresets', asString),
    apiJwtIssuer: given('apiJwtIssuer', asString),
    apiJwtAudience: given('apiJwtAudience', asString),
    apiPublicReads: given('apiPublicReads', rule('apiPublicReads')),
    apiCorsOrigin: given('apiCorsOrigin', asString),
    apiThrottleRate: given('apiThrottleRate', rule('apiThrottleRate')),
    apiThrottleBurst: given('apiThrottleBurst', rule('apiThrottleBurst')),
  };
  if (api !== undefined) out.api = api;
  for (const [key, value] of Object.entries(keys)) if (value !== undefined && value !== '') Object.assign(out, { [key]: value });
  if ((out.apiJwtIssuer === undefined) !== (out.apiJwtAudience === undefined)) {
    throw new UsageError('JWT auth needs both an issuer and an audience.', 'Give --api-jwt-issuer and --api-jwt-audience together, or neither for IAM auth.');
  }
  return out;
}

/**
 * The delivery settings (CDN and Cache-Control): only keys with a value are returned, so a stack without a CDN
 * keeps a settings file without them. Interactive init asks whether to put a CDN in front.
 */
async function resolveDeliverySettings(
  given: <K extends keyof typeof SETTINGS_ENV>(key: K, parse: (raw: string) => StackSettings[K]) => StackSettings[K] | undefined,
  prompter: Prompter | undefined,
  sources: SettingsSources,
): Promise<Partial<StackSettings>> {
  let cdn = given('cdn', rule('cdn'));
  if (cdn === undefined && prompter) {
    sources.cdn = 'prompt';
    cdn = await prompter.confirm('Serve the resized images through a CloudFront CDN?', false);
  }
  const out: Partial<StackSettings> = {};
  // A "no" is recorded too, so interactive init does not ask again next time.
  if (cdn === false) out.cdn = false;
  if (cdn === true) {
    out.cdn = true;
    out.cdnPriceClass = given('cdnPriceClass', rule('cdnPriceClass')) ?? DEFAULT_CDN_PRICE_CLASS;
    const aliases = emptyToUndefined(given('cdnAliases', (raw) => raw));
    const certificate = emptyToUndefined(given('cdnCertificateArn', (raw) => raw));
    if (aliases !== undefined) out.cdnAliases = aliases;
    if (certificate !== undefined) out.cdnCertificateArn = certificate;
  }
  const cacheControl = emptyToUndefined(given('cacheControl', rule('cacheControl')));
  if (cacheControl !== undefined) out.cacheControl = cacheControl;
  return out;
}

/**
 * The stack's runtime for `init`: --runtime, else IMG_RESIZER_RUNTIME, else the file's "runtime". Without any, a
 * new stack gets the newest runtime the whole pipeline supports, while a stack whose settings file predates the
 * setting keeps the runtime it was deployed with (PRE_SETTING_RUNTIME): no surprise switch on the next init.
 */
export function resolveRuntime(
  flag: LambdaRuntime | undefined,
  env: NodeJS.ProcessEnv,
  file: Partial<StackSettings> | undefined,
): { runtime: LambdaRuntime; source: 'flag' | 'env' | 'file' | 'default' } {
  if (flag !== undefined) return { runtime: flag, source: 'flag' };
  const raw = env[SETTINGS_ENV.runtime];
  if (raw !== undefined && raw !== '') {
    if (!isLambdaRuntime(raw)) throw new UsageError(`${SETTINGS_ENV.runtime}: runtime must be one of ${LAMBDA_RUNTIMES.join(', ')}`);
    return { runtime: raw, source: 'env' };
  }
  const recorded: unknown = file?.runtime ?? undefined;
  if (recorded !== undefined && recorded !== null) {
    if (typeof recorded !== 'string' || !isLambdaRuntime(recorded)) {
      throw new UsageError(`The settings file's "runtime" (${JSON.stringify(recorded)}) is not one img-resizer deploys.`, `Give --runtime one of ${LAMBDA_RUNTIMES.join(', ')}.`);
    }
    return { runtime: recorded, source: 'file' };
  }
  if (file?.functionName !== undefined) return { runtime: PRE_SETTING_RUNTIME, source: 'file' };
  return { runtime: defaultRuntime(), source: 'default' };
}


function emptyToUndefined(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}





