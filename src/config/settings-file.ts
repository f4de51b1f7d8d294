import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SIZE_SPEC } from '../../lambda-src/core/sizes.js';
import { CliError, ExitCode, UsageError, errorMessage } from '../errors.js';
import { notifyProtocol } from './notify-targets.js';
import { isRuledSetting, SETTING_RULES } from './setting-rules.js';
// A cycle (settings.ts re-exports this module), harmless: SETTINGS_ENV is read only when a file is checked.
import { SETTINGS_ENV } from './settings.js';
import { bucketNameProblem } from './validation.js';
import { DEFAULT_MEMORY_MB, DEFAULT_SETTINGS_FILE, DEFAULT_STACK_NAME, DEFAULT_TIMEOUT_S, derivedNames, type StackSettings } from './stack-settings.js';

/** Reading and writing the settings file. */

export function settingsPath(configFlag: string | undefined, cwd = process.cwd()): string {
  return path.resolve(cwd, configFlag ?? DEFAULT_SETTINGS_FILE);
}

export interface ReadSettingsOptions {
  /** Told once about keys the file has that no setting uses (a typo, or a newer version's setting). */
  warn?: ((message: string) => void) | undefined;
}

/**
 * The settings file, validated with the rules its keys' flags use: a bad value is a usage error naming the file
 * and the key (exit 2), before any AWS call; unknown keys are one warning. Values are returned as the rules read
 * them (`"memory": "2048"` becomes 2048); undefined when there is no file.
 */
export async function readSettingsFile(file: string, options: ReadSettingsOptions = {}): Promise<Partial<StackSettings> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`, 'Fix or delete the file, then run `img-resizer init` again.');
  }
  const { settings, unknownKeys } = checkSettingsObject(file, parsed as Record<string, unknown>);
  if (unknownKeys.length > 0) {
    options.warn?.(`${file}: ignoring ${unknownKeys.length === 1 ? 'unknown key' : 'unknown keys'} ${unknownKeys.map((key) => `"${key}"`).join(', ')} (a typo, or a setting of another version?).`);
  }
  return settings;
}

/** Keys whose value is free text (names, filters, ARNs): they must be strings; init checks their form. */
const TEXT_KEYS = new Set<string>([
  'stackName', 'region', 'sourceBucket', 'destBucket', 'table', 'functionName', 'roleName', 'layerName', 'prefix', 'suffix',
  'apiPresets', 'apiJwtIssuer', 'apiJwtAudience', 'apiCorsOrigin', 'cdnAliases', 'cdnCertificateArn',
]);

/** Every key the file may hold: one per setting, plus what init records beside them. */
function isKnownKey(key: string): boolean {
  return Object.hasOwn(SETTINGS_ENV, key) || key === 'region' || key === 'location';
}

function checkSettingsObject(file: string, raw: Record<string, unknown>): { settings: Partial<StackSettings>; unknownKeys: string[] } {
  const settings: Record<string, unknown> = {};
  const unknownKeys: string[] = [];
  const fail = (key: string, problem: string): never => {
    throw new UsageError(`${file}: "${key}": ${problem}`, `Fix "${key}" in the file (or delete the key to use its default), then run the command again.`);
  };
  for (const [key, value] of Object.entries(raw)) {
    if (!isKnownKey(key)) {
      unknownKeys.push(key);
      settings[key] = value;
      continue;
    }
    // A hand-edited file may hold null; it means "not set".
    if (value === null || value === undefined) continue;
    if (key === 'location') {
      const problem = locationProblem(value);
      if (problem) throw new UsageError(`${file}: "location" ${problem}.`, 'Fix it, or delete the key and run `img-resizer init` with --local, --endpoint-url or --profile to record it again.');
      settings[key] = value;
    } else if (key === 'notify') {
      if (!Array.isArray(value)) fail(key, 'must be a list of targets, e.g. [{"endpoint": "arn:aws:sqs:..."}].');
      for (const target of value as unknown[]) {
        const endpoint = (target as { endpoint?: unknown } | null)?.endpoint;
        if (typeof endpoint !== 'string') fail(key, 'each target must be an object with an "endpoint" string.');
        try {
          notifyProtocol(endpoint as string);
        } catch (error) {
          fail(key, `${errorMessage(error)}.`);
        }
      }
      settings[key] = value;
    } else if (isRuledSetting(key)) {
      const { rule } = SETTING_RULES[key];
      // Numbers and switches are read as their flag's text would be: "memory": 2048 and "memory": "2048" alike.
      const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      if (text === undefined) return fail(key, `${JSON.stringify(value)} is not ${rule.expected}.`);
      try {
        settings[key] = rule.parse(text);
      } catch (error) {
        fail(key, errorMessage(error));
      }
    } else if (TEXT_KEYS.has(key)) {
      if (typeof value !== 'string') return fail(key, `${JSON.stringify(value)} is not text.`);
      // Bucket names are checked (a bad one fails every call); the stack name's form is init's business.
      const problem = key === 'sourceBucket' || key === 'destBucket' ? bucketNameProblem(value) : undefined;
      if (problem) fail(key, `"${value}" ${problem}.`);
      settings[key] = value;
    } else {
      settings[key] = value;
    }
  }
  return { settings, unknownKeys };
}

/** Why a recorded location is unusable, or undefined when it is one of the StackLocation forms. */
export function locationProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object';
  const record = value as Record<string, unknown>;
  switch (record.kind) {
    case 'local':
      return Number.isInteger(record.port) && (record.port as number) >= 1 && (record.port as number) <= 65535 ? undefined : 'port must be a whole number from 1 to 65535';
    case 'endpoint':
      return typeof record.endpointUrl === 'string' && /^https?:\/\/./.test(record.endpointUrl) ? undefined : 'endpointUrl must be an http:// or https:// URL';
    case 'aws':
      return record.profile === undefined || (typeof record.profile === 'string' && record.profile !== '') ? undefined : 'profile must be a non-empty string';
    default:
      return 'kind must be one of local, endpoint, aws';
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
