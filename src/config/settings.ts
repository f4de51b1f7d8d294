import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { CliError, ExitCode, UsageError, errorMessage } from '../errors.js';
import { parseSizeSpec, formatSizeSpec, DEFAULT_SIZE_SPEC } from '../../lambda-src/core/sizes.js';
import { OUTPUT_FORMATS, FIT_MODES, type OutputFormat, type FitMode } from '../../lambda-src/core/settings.js';

// The function's own lists, so the CLI accepts exactly what the function does.
export { OUTPUT_FORMATS, FIT_MODES, type OutputFormat, type FitMode };

export const DEFAULT_SETTINGS_FILE = 'img-resizer.config.json';
export const DEFAULT_STACK_NAME = 'img-resizer';

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** The stack's resolved settings, written by `init` and read by every other command. Never credentials. */
export interface StackSettings {
  stackName: string;
  /** Region the stack lives in (absent for "whatever the SDK resolves"). */
  region?: string | undefined;
  sourceBucket: string;
  destBucket: string;
  table: string;
  functionName: string;
  roleName: string;
  layerName: string;
  /** Size spec, e.g. "thumbnail=200x200". */
  sizes: string;
  format: OutputFormat;
  fit: FitMode;
  arch: Architecture;
  memory: number;
  timeout: number;
  /** Trigger filters: only keys under this prefix / with this suffix start the function. */
  prefix?: string | undefined;
  suffix?: string | undefined;
  /** How uploads reach the function: the direct S3 trigger (absent: direct), or EventBridge → Step Functions. */
  orchestration?: Orchestration | undefined;
  /** Workflow mode only: Express (per request, the default) or Standard (per state transition, full history). */
  stateMachineType?: StateMachineKind | undefined;
}

export const ORCHESTRATIONS = ['direct', 'stepfunctions'] as const;
export type Orchestration = (typeof ORCHESTRATIONS)[number];
export const STATE_MACHINE_KINDS = ['express', 'standard'] as const;
export type StateMachineKind = (typeof STATE_MACHINE_KINDS)[number];

export function settingsPath(configFlag: string | undefined, cwd = process.cwd()): string {
  return path.resolve(cwd, configFlag ?? DEFAULT_SETTINGS_FILE);
}

export async function readSettingsFile(file: string): Promise<Partial<StackSettings> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('not a JSON object');
    }
    return parsed;
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`, 'Fix or delete the file, then run `img-resizer init` again.');
  }
}

/** Settings of an initialised stack; a clear error when `init` has not run. */
export async function loadStackSettings(file: string): Promise<StackSettings> {
  const settings = await readSettingsFile(file);
  if (!settings) {
    throw new CliError('NOT_INITIALISED', `No settings file at ${file}.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Run `img-resizer init` first (add --local for the local stack), or point --config at the file.',
    });
  }
  const required = ['sourceBucket', 'destBucket', 'table', 'functionName'] as const;
  for (const key of required) {
    if (typeof settings[key] !== 'string' || settings[key] === '') {
      throw new UsageError(`${file} lacks "${key}".`, 'Run `img-resizer init` to rewrite it.');
    }
  }
  // Files written before a field existed get its default, derived from the stack name like init does.
  const stackName = settings.stackName ?? DEFAULT_STACK_NAME;
  return {
    ...derivedNames(stackName),
    sizes: DEFAULT_SIZE_SPEC,
    format: 'png',
    fit: 'cover',
    arch: 'x86_64',
    memory: DEFAULT_MEMORY_MB,
    timeout: DEFAULT_TIMEOUT_S,
    ...settings,
    stackName,
  } as StackSettings;
}

/** Written atomically so an interrupted write never leaves half a file. */
export async function writeSettingsFile(file: string, settings: StackSettings): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, 'utf8');
  await rename(temporary, file);
}

// ---------------------------------------------------------------------------------------------------
// Resolution for `init`: flags, then environment, then the settings file, then prompts, then defaults.

export const DEFAULT_MEMORY_MB = 1024;
export const DEFAULT_TIMEOUT_S = 60;

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
  orchestration: 'IMG_RESIZER_ORCHESTRATION',
  stateMachineType: 'IMG_RESIZER_STATE_MACHINE_TYPE',
} as const satisfies Record<Exclude<keyof StackSettings, 'region'>, string>;

/** Settings given on the command line; undefined means "not given". */
export type SettingsFlags = { [K in keyof typeof SETTINGS_ENV]?: StackSettings[K] | undefined };

/** Asks a person for a value; injectable so resolution is testable without a terminal. */
export interface Prompter {
  input(message: string, defaultValue: string, validate: (value: string) => string | true): Promise<string>;
  select<T extends string>(message: string, choices: readonly T[], defaultValue: T): Promise<T>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}

/** The inquirer prompts, loaded only when someone is asked something. */
export const inquirerPrompter: Prompter = {
  async input(message, defaultValue, validate) {
    const { input } = await import('@inquirer/prompts');
    return input({ message, default: defaultValue, validate });
  },
  async select(message, choices, defaultValue) {
    const { select } = await import('@inquirer/prompts');
    return select({ message, choices: choices.map((value) => ({ value, name: value })), default: defaultValue });
  },
  async confirm(message, defaultValue) {
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message, default: defaultValue });
  },
};

export interface ResolveInput {
  flags: SettingsFlags;
  env?: NodeJS.ProcessEnv;
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

/** Names derived from the stack name alone. */
export function derivedNames(stackName: string): Pick<StackSettings, 'table' | 'functionName' | 'roleName' | 'layerName'> {
  return {
    table: `${stackName}-metadata`,
    functionName: `${stackName}-resize`,
    roleName: `${stackName}-function-role`,
    layerName: `${stackName}-sharp`,
  };
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
  let format = given('format', choice('format', OUTPUT_FORMATS));
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
    roleName: orDefault('roleName', asString, names.roleName),
    layerName: orDefault('layerName', asString, names.layerName),
    sizes,
    format,
    fit: orDefault('fit', choice('fit', FIT_MODES), 'cover'),
    arch: orDefault('arch', choice('arch', ARCHITECTURES), 'x86_64'),
    memory: orDefault('memory', wholeNumber, DEFAULT_MEMORY_MB),
    timeout: orDefault('timeout', wholeNumber, DEFAULT_TIMEOUT_S),
    prefix: emptyToUndefined(given('prefix', asString)),
    suffix: emptyToUndefined(given('suffix', asString)),
    orchestration: orDefault('orchestration', choice('orchestration', ORCHESTRATIONS), 'direct'),
    stateMachineType: orDefault('stateMachineType', choice('state machine type', STATE_MACHINE_KINDS), 'express'),
  };
  sources.region = 'default';
  validateSettings(settings);
  // Canonical text, so the settings file and the function's SIZES variable always agree.
  settings.sizes = formatSizeSpec(parseSizeSpec(settings.sizes));
  return { settings, sources };
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function choice<T extends string>(name: string, choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${choices.join(', ')}`);
    return raw as T;
  };
}

function wholeNumber(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`"${raw}" is not a whole number`);
  return Number(raw);
}

// ---------------------------------------------------------------------------------------------------
// Validation, before any AWS call.

export function validateStackName(name: string): void {
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(name)) {
    throw new UsageError(
      `Stack name "${name}" is not valid.`,
      'Use 2-32 lower-case letters, digits and hyphens, starting with a letter (it prefixes bucket, table and function names).',
    );
  }
}

/** Why a name breaks S3's rules for general purpose buckets, or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `must be 3 to 63 characters long (it has ${name.length})`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lower-case letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'must not look like an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(prefix)) return `must not start with "${prefix}"`;
  }
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) {
    if (name.endsWith(suffix)) return `must not end with "${suffix}"`;
  }
  return undefined;
}

function sizeSpecProblem(spec: string): string | undefined {
  try {
    parseSizeSpec(spec);
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * The function writes `resized-{key}` or `resized/{size}/{key}`. When it writes into the bucket that triggers it,
 * the trigger prefix must exclude every such key, or each output would start the function again.
 */
export function sameBucketProblem(prefix: string | undefined): string | undefined {
  if (prefix === undefined || prefix === '') return 'needs a trigger prefix (--trigger-prefix uploads/) so outputs do not trigger the function';
  if (prefix.startsWith('resized') || 'resized-'.startsWith(prefix) || 'resized/'.startsWith(prefix)) {
    return `trigger prefix "${prefix}" would include the outputs (resized-… and resized/…); choose one such as uploads/`;
  }
  return undefined;
}

const SIZES_SUGGESTION = 'Write them as name=WxH, comma-separated, e.g. thumb=200x200,medium=800x800.';

export function validateSettings(settings: StackSettings): void {
  for (const key of ['sourceBucket', 'destBucket'] as const) {
    const problem = bucketNameProblem(settings[key]);
    if (problem) {
      throw new UsageError(
        `Bucket name "${settings[key]}" ${problem}.`,
        key === 'sourceBucket' ? 'Give a valid one with --source-bucket.' : 'Give a valid one with --dest-bucket.',
      );
    }
  }
  if (settings.sourceBucket === settings.destBucket) {
    const problem = sameBucketProblem(settings.prefix);
    if (problem) throw new UsageError(`Source and destination are the same bucket: that ${problem}.`);
  }
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(settings.table)) {
    throw new UsageError(`Table name "${settings.table}" is not valid.`, 'Use 3-255 letters, digits, "_", "-" and ".".');
  }
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(settings.functionName)) {
    throw new UsageError(`Function name "${settings.functionName}" is not valid.`, 'Use 1-64 letters, digits, "-" and "_".');
  }
  if (!/^[\w+=,.@-]{1,64}$/.test(settings.roleName)) {
    throw new UsageError(`Role name "${settings.roleName}" is not valid.`, 'Use 1-64 letters, digits and +=,.@_-');
  }
  if (!/^[a-zA-Z0-9_-]{1,140}$/.test(settings.layerName)) {
    throw new UsageError(`Layer name "${settings.layerName}" is not valid.`, 'Use 1-140 letters, digits, "-" and "_".');
  }
  const sizes = sizeSpecProblem(settings.sizes);
  if (sizes) throw new UsageError(`Sizes "${settings.sizes}": ${sizes}`, SIZES_SUGGESTION);
  if (!(OUTPUT_FORMATS as readonly string[]).includes(settings.format)) throw new UsageError(`Format must be one of ${OUTPUT_FORMATS.join(', ')}.`);
  if (!(FIT_MODES as readonly string[]).includes(settings.fit)) throw new UsageError(`Fit must be one of ${FIT_MODES.join(', ')}.`);
  if (!(ARCHITECTURES as readonly string[]).includes(settings.arch)) throw new UsageError(`Architecture must be one of ${ARCHITECTURES.join(', ')}.`);
  if (!Number.isInteger(settings.memory) || settings.memory < 128 || settings.memory > 10_240) {
    throw new UsageError(`Memory ${settings.memory} MB is out of range: Lambda allows 128 to 10240 MB.`, 'Give --memory a value in that range.');
  }
  if (!Number.isInteger(settings.timeout) || settings.timeout < 1 || settings.timeout > 900) {
    throw new UsageError(`Timeout ${settings.timeout} s is out of range: Lambda allows 1 to 900 seconds.`, 'Give --timeout a value in that range.');
  }
  for (const key of ['prefix', 'suffix'] as const) {
    const value = settings[key];
    if (value !== undefined && (value.length > 1024 || /[*?]/.test(value))) {
      // * and ? are wildcards in the IAM policy's resource ARN, which embeds the prefix.
      throw new UsageError(`Trigger ${key} "${value}" is not usable.`, 'Use at most 1024 characters, without * or ?.');
    }
  }
}
