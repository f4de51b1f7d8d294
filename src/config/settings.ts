import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { CliError, ExitCode, UsageError } from '../errors.js';

export const DEFAULT_SETTINGS_FILE = 'img-resizer.config.json';

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
  format: 'png' | 'jpeg' | 'webp' | 'avif' | 'original';
  fit: 'cover' | 'contain' | 'inside' | 'fill';
  arch: 'x86_64' | 'arm64';
  memory: number;
  timeout: number;
  /** Trigger filters. */
  prefix?: string | undefined;
  suffix?: string | undefined;
}

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
  return settings as StackSettings;
}

/** Written atomically so an interrupted write never leaves half a file. */
export async function writeSettingsFile(file: string, settings: StackSettings): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, 'utf8');
  await rename(temporary, file);
}
